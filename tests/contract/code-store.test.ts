import { randomBytes } from "node:crypto";
import { createCluster } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisCluster, type RedisCluster } from "@/testing/services/redis-cluster";
import { startRedis, type RedisServer } from "@/testing/services/redis-server";
import { startUpstashBridge, type UpstashBridge } from "@/testing/services/upstash-bridge";
import { StoreUnavailableError, type CodeStore, type ConsumeCodeInput, type IssueCodeInput, type LimitRule } from "@/lib/store/code-store";
import { MemoryCodeStore } from "@/lib/store/memory";
import { RedisCodeStore, type RedisTopology } from "@/lib/store/redis";
import { CONSUME_CODE_SCRIPT, scriptCalls } from "@/lib/store/scripts";
import { slotPart } from "@/lib/store/slots";
import { UpstashCodeStore } from "@/lib/store/upstash";

/**
 * One contract, four stores: the in-process store, Redis over TCP against a real throwaway redis-server,
 * @upstash/redis through the local Upstash REST bridge to that same redis-server, and Redis over TCP
 * against a real three-master Redis Cluster (where the tests' keys, which carry no hash tags, all land in
 * different slots, so every limit of an operation is split off its record's slot). Every store must
 * give the same answers, including under races (the Lua scripts and the in-process store are each one
 * atomic step) and, for the networked ones, fail closed while Redis is down and recover without a new
 * client when it is back.
 *
 * Code expiry is driven by the `now` passed in (T = Date.now() at the start of a test); limit windows run
 * on the store's own clock (Redis' TTLs), so the limit tests use windows the real clock can wait out.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const TTL = 10 * MINUTE;
const MAX_LIFETIME = 30 * MINUTE;
const RETENTION = 24 * HOUR;
const MAX_ATTEMPTS = 5;

let redis: RedisServer;
let bridge: UpstashBridge;
let cluster: RedisCluster;
const redisStores: RedisCodeStore[] = [];

beforeAll(async () => {
  [redis, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
  bridge = await startUpstashBridge(redis.url);
}, 60_000);

afterAll(async () => {
  for (const store of redisStores) await store.close().catch(() => {});
  await bridge?.stop();
  await Promise.all([redis?.stop(), cluster?.stop()]);
});

interface Harness {
  name: string;
  create(): CodeStore;
  /** Networked stores only: stop and start the Redis behind them. */
  networked: boolean;
  server?: () => { stop(): Promise<void>; start(): Promise<void> };
}

const tcpStore = (url: () => string, topology?: RedisTopology) => () => {
  const store = new RedisCodeStore(url(), topology);
  redisStores.push(store);
  return store;
};

const harnesses: Harness[] = [
  { name: "MemoryCodeStore (in-process)", create: () => new MemoryCodeStore(), networked: false },
  { name: "RedisCodeStore (TCP, real redis-server)", create: tcpStore(() => redis.url), networked: true, server: () => redis },
  {
    name: "UpstashCodeStore (REST bridge to the same redis-server)",
    create: () => new UpstashCodeStore(bridge.url, bridge.token),
    networked: true,
    server: () => redis,
  },
  // Told nothing: it finds out from the server that it is a cluster node.
  { name: "RedisCodeStore (TCP, real three-master Redis Cluster)", create: tcpStore(() => cluster.url), networked: true, server: () => cluster },
];

/** A key prefix no other test uses: the Redis-backed stores share one server. */
const ns = () => `t:${randomBytes(6).toString("hex")}`;
/** A code hash as the service would store it (64 hex characters). */
const digest = () => randomBytes(32).toString("hex");

function issueInput(codeHash: string, now: number, extra: Partial<IssueCodeInput> = {}): IssueCodeInput {
  return { codeHash, payload: "", now, ttlMs: TTL, maxLifetimeMs: MAX_LIFETIME, retentionMs: RETENTION, sendLimits: [], ...extra };
}

function consumeInput(codeHash: string, now: number, extra: Partial<ConsumeCodeInput> = {}): ConsumeCodeInput {
  return { codeHash, now, maxAttempts: MAX_ATTEMPTS, failureLimits: [], ...extra };
}

/** The delivery-queue tests' clock, shared by every store (two of them share one queue). */
let queueClock = Date.now();
const rule = (key: string, limit: number, windowMs: number): LimitRule => ({ key, limit, windowMs });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with how long `promise` took to settle, and how it settled. */
async function settle(promise: Promise<unknown>): Promise<{ ms: number; error?: unknown; value?: unknown }> {
  const started = Date.now();
  try {
    const value = await promise;
    return { ms: Date.now() - started, value };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

describe.each(harnesses)("code store contract: $name", (harness) => {
  let store: CodeStore;
  let key: string;
  let T: number;

  beforeAll(() => {
    store = harness.create();
  });

  // Fresh keys and a fresh clock reading per test (beforeEach via a getter-style helper).
  const fresh = () => {
    key = `${ns()}:code`;
    T = Date.now();
  };

  describe("issue and consume", () => {
    it("issues a code and consumes it once with its payload", async () => {
      fresh();
      const h = digest();
      expect(await store.issueCode(key, issueInput(h, T, { payload: '{"name":"Ada"}' }))).toEqual({ status: "issued", expiresAt: T + TTL });
      expect(await store.consumeCode(key, consumeInput(h, T + 1000))).toEqual({ status: "ok", payload: '{"name":"Ada"}' });
    });

    it("answers ok with an empty payload for a code issued without one", async () => {
      fresh();
      const h = digest();
      await store.issueCode(key, issueInput(h, T));
      expect(await store.consumeCode(key, consumeInput(h, T))).toEqual({ status: "ok", payload: "" });
    });

    it("answers used for a second consume of the same code, and missing for any other code (only the used code learns it was used)", async () => {
      fresh();
      const h = digest();
      await store.issueCode(key, issueInput(h, T));
      expect((await store.consumeCode(key, consumeInput(h, T))).status).toBe("ok");
      expect(await store.consumeCode(key, consumeInput(h, T))).toEqual({ status: "used" });
      expect(await store.consumeCode(key, consumeInput(digest(), T))).toEqual({ status: "missing" });
      expect(await store.consumeCode(key, consumeInput(h, T))).toEqual({ status: "used" });
    });

    it("answers wrong_code for a wrong code and still accepts the right one afterwards", async () => {
      fresh();
      const h = digest();
      await store.issueCode(key, issueInput(h, T));
      expect(await store.consumeCode(key, consumeInput(digest(), T))).toEqual({ status: "wrong_code" });
      expect((await store.consumeCode(key, consumeInput(h, T))).status).toBe("ok");
    });

    it("voids the code on the maxAttempts-th wrong try: too_many_attempts, and then the right code is refused too", async () => {
      fresh();
      const h = digest();
      await store.issueCode(key, issueInput(h, T));
      for (let i = 1; i < MAX_ATTEMPTS; i++) {
        expect(await store.consumeCode(key, consumeInput(digest(), T))).toEqual({ status: "wrong_code" });
      }
      expect(await store.consumeCode(key, consumeInput(digest(), T))).toEqual({ status: "too_many_attempts" });
      expect(await store.consumeCode(key, consumeInput(h, T))).toEqual({ status: "too_many_attempts" });
    });

    it("accepts a code 1 ms before its ttl ends and answers expired at issue time + ttl", async () => {
      fresh();
      const early = digest();
      await store.issueCode(`${key}:a`, issueInput(early, T));
      expect((await store.consumeCode(`${key}:a`, consumeInput(early, T + TTL - 1))).status).toBe("ok");

      const late = digest();
      await store.issueCode(`${key}:b`, issueInput(late, T));
      expect(await store.consumeCode(`${key}:b`, consumeInput(late, T + TTL))).toEqual({ status: "expired" });
      // Only the expired code hears "expired": any other code is answered as if there were no record.
      expect(await store.consumeCode(`${key}:b`, consumeInput(digest(), T + TTL + 1))).toEqual({ status: "missing" });
      expect(await store.consumeCode(`${key}:b`, consumeInput(late, T + TTL + 1))).toEqual({ status: "expired" });
    });

    it("answers missing for a key that never had a code", async () => {
      fresh();
      expect(await store.consumeCode(key, consumeInput(digest(), T))).toEqual({ status: "missing" });
    });

    it("keeps the previous code valid beside a new one", async () => {
      fresh();
      const first = digest();
      const second = digest();
      await store.issueCode(key, issueInput(first, T));
      await store.issueCode(key, issueInput(second, T + MINUTE));
      expect((await store.consumeCode(key, consumeInput(first, T + 2 * MINUTE))).status).toBe("ok");
      // One proof per record: the newer code is spent with it.
      expect(await store.consumeCode(key, consumeInput(second, T + 2 * MINUTE))).toEqual({ status: "used" });
    });

    it("accepts the newest code beside the previous one", async () => {
      fresh();
      const first = digest();
      const second = digest();
      await store.issueCode(key, issueInput(first, T));
      await store.issueCode(key, issueInput(second, T + MINUTE));
      expect((await store.consumeCode(key, consumeInput(second, T + 2 * MINUTE))).status).toBe("ok");
    });

    it("keeps only the last two codes: the one before the previous is wrong", async () => {
      fresh();
      const [c1, c2, c3] = [digest(), digest(), digest()];
      await store.issueCode(key, issueInput(c1, T));
      await store.issueCode(key, issueInput(c2, T + MINUTE));
      await store.issueCode(key, issueInput(c3, T + 2 * MINUTE));
      expect(await store.consumeCode(key, consumeInput(c1, T + 3 * MINUTE))).toEqual({ status: "wrong_code" });
      expect((await store.consumeCode(key, consumeInput(c2, T + 3 * MINUTE))).status).toBe("ok");
    });

    it("does not keep a previous code that has already expired beside the new one", async () => {
      fresh();
      const old = digest();
      const fresh2 = digest();
      await store.issueCode(key, issueInput(old, T));
      await store.issueCode(key, issueInput(fresh2, T + TTL + 1));
      expect(await store.consumeCode(key, consumeInput(old, T + TTL + 2))).toEqual({ status: "wrong_code" });
      expect((await store.consumeCode(key, consumeInput(fresh2, T + TTL + 2))).status).toBe("ok");
    });

    it("returns with each code only the payload it was issued with (p1 / p2)", async () => {
      fresh();
      const [c1, c2] = [digest(), digest()];
      for (const suffix of ["x", "y"]) {
        await store.issueCode(`${key}:${suffix}`, issueInput(c1, T, { payload: "p1" }));
        await store.issueCode(`${key}:${suffix}`, issueInput(c2, T + MINUTE, { payload: "p2" }));
      }
      expect(await store.consumeCode(`${key}:x`, consumeInput(c1, T + 2 * MINUTE))).toEqual({ status: "ok", payload: "p1" });
      expect(await store.consumeCode(`${key}:y`, consumeInput(c2, T + 2 * MINUTE))).toEqual({ status: "ok", payload: "p2" });
    });

    it("keeps an empty payload empty when the code beside it carries one", async () => {
      fresh();
      const [victim, attacker] = [digest(), digest()];
      await store.issueCode(key, issueInput(victim, T, { payload: "" }));
      await store.issueCode(key, issueInput(attacker, T + MINUTE, { payload: '{"name":"Mallory"}' }));
      expect(await store.consumeCode(key, consumeInput(victim, T + 2 * MINUTE))).toEqual({ status: "ok", payload: "" });
    });

    it("caps a series of codes at its first issue + maxLifetimeMs, however often a code is resent", async () => {
      fresh();
      const hashes = [digest(), digest(), digest(), digest()] as const;
      // Each code is issued while the previous is live: one series, first issued at T.
      expect(await store.issueCode(key, issueInput(hashes[0], T))).toEqual({ status: "issued", expiresAt: T + TTL });
      expect(await store.issueCode(key, issueInput(hashes[1], T + 9 * MINUTE))).toEqual({ status: "issued", expiresAt: T + 19 * MINUTE });
      expect(await store.issueCode(key, issueInput(hashes[2], T + 18 * MINUTE))).toEqual({ status: "issued", expiresAt: T + 28 * MINUTE });
      expect(await store.issueCode(key, issueInput(hashes[3], T + 27 * MINUTE))).toEqual({ status: "issued", expiresAt: T + MAX_LIFETIME });
      expect(await store.consumeCode(key, consumeInput(hashes[3], T + MAX_LIFETIME))).toEqual({ status: "expired" });
    });

    it("accepts the last code of a capped series until 1 ms before the cap", async () => {
      fresh();
      const hashes = [digest(), digest(), digest(), digest()] as const;
      await store.issueCode(key, issueInput(hashes[0], T));
      await store.issueCode(key, issueInput(hashes[1], T + 9 * MINUTE));
      await store.issueCode(key, issueInput(hashes[2], T + 18 * MINUTE));
      await store.issueCode(key, issueInput(hashes[3], T + 27 * MINUTE));
      expect((await store.consumeCode(key, consumeInput(hashes[3], T + MAX_LIFETIME - 1))).status).toBe("ok");
    });

    it("starts a new series (full ttl) once every code of the previous one has expired", async () => {
      fresh();
      await store.issueCode(key, issueInput(digest(), T));
      const later = T + TTL + 5 * MINUTE;
      expect(await store.issueCode(key, issueInput(digest(), later))).toEqual({ status: "issued", expiresAt: later + TTL });
    });

    it("gives a new code a fresh per-code attempt count (the failure budget across codes is the limits' job)", async () => {
      fresh();
      const [c1, c2] = [digest(), digest()];
      await store.issueCode(key, issueInput(c1, T));
      for (let i = 1; i < MAX_ATTEMPTS; i++) expect((await store.consumeCode(key, consumeInput(digest(), T))).status).toBe("wrong_code");
      await store.issueCode(key, issueInput(c2, T + MINUTE));
      for (let i = 1; i < MAX_ATTEMPTS; i++) expect((await store.consumeCode(key, consumeInput(digest(), T + MINUTE))).status).toBe("wrong_code");
      expect((await store.consumeCode(key, consumeInput(c2, T + MINUTE))).status).toBe("ok");
    });
  });

  describe("send limits in issueCode", () => {
    it("answers limited with retryAfterMs > 0 within the cooldown, and the limited code is never stored", async () => {
      fresh();
      const cooldown = [rule(`${key}:cooldown`, 1, MINUTE)];
      const [first, second] = [digest(), digest()];
      expect(await store.issueCode(key, issueInput(first, T, { payload: "first", sendLimits: cooldown }))).toEqual({
        status: "issued",
        expiresAt: T + TTL,
      });
      const limited = await store.issueCode(key, issueInput(second, T + 1000, { payload: "second", sendLimits: cooldown }));
      expect(limited.status).toBe("limited");
      const { retryAfterMs } = limited as { retryAfterMs: number };
      expect(retryAfterMs).toBeGreaterThan(0);
      expect(retryAfterMs).toBeLessThanOrEqual(MINUTE);

      // Nothing changed: the refused code is unknown, the first code and its payload are intact.
      expect(await store.consumeCode(key, consumeInput(second, T + 2000))).toEqual({ status: "wrong_code" });
      expect(await store.consumeCode(key, consumeInput(first, T + 2000))).toEqual({ status: "ok", payload: "first" });
    });

    it("does not count a limited issue against the other send limits", async () => {
      fresh();
      const cooldown = rule(`${key}:cooldown`, 1, MINUTE);
      const hourly = rule(`${key}:hour`, 3, HOUR);
      const rules = [cooldown, hourly];
      const issue = () => store.issueCode(key, issueInput(digest(), Date.now(), { sendLimits: rules }));

      expect((await issue()).status).toBe("issued"); // hour: 1
      for (let i = 0; i < 3; i++) expect((await issue()).status).toBe("limited"); // cooldown: must not count
      await store.limits("reset", [cooldown]);
      expect((await issue()).status).toBe("issued"); // hour: 2
      await store.limits("reset", [cooldown]);
      expect((await issue()).status).toBe("issued"); // hour: 3
      await store.limits("reset", [cooldown]);
      const capped = await issue();
      expect(capped.status).toBe("limited");
      // The hour's counter decides now: about an hour to wait, not a minute.
      expect((capped as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(HOUR - MINUTE);
    });

    it("lets exactly one of 20 parallel issues within a cooldown through", async () => {
      fresh();
      const cooldown = [rule(`${key}:cooldown`, 1, MINUTE)];
      const hashes = Array.from({ length: 20 }, () => digest());
      const outcomes = await Promise.all(hashes.map((h) => store.issueCode(key, issueInput(h, T, { sendLimits: cooldown }))));
      expect(outcomes.filter((o) => o.status === "issued")).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === "limited")).toHaveLength(19);
      // The one issued is the one stored.
      const winner = hashes[outcomes.findIndex((o) => o.status === "issued")]!;
      expect((await store.consumeCode(key, consumeInput(winner, T))).status).toBe("ok");
    });
  });

  describe("failure limits in consumeCode", () => {
    it("answers rate_limited after N wrong codes across codes: a new code does not reset the budget", async () => {
      fresh();
      const failures = [rule(`${key}:fail`, 6, HOUR)];
      const [c1, c2] = [digest(), digest()];
      await store.issueCode(key, issueInput(c1, T));
      for (let i = 0; i < 4; i++) {
        expect(await store.consumeCode(key, consumeInput(digest(), T, { failureLimits: failures }))).toEqual({ status: "wrong_code" });
      }
      await store.issueCode(key, issueInput(c2, T + MINUTE));
      for (let i = 0; i < 2; i++) {
        expect(await store.consumeCode(key, consumeInput(digest(), T + MINUTE, { failureLimits: failures }))).toEqual({ status: "wrong_code" });
      }
      const refused = await store.consumeCode(key, consumeInput(c2, T + MINUTE, { failureLimits: failures }));
      expect(refused.status).toBe("rate_limited");
      const { retryAfterMs } = refused as { retryAfterMs: number };
      // The in-process store times its windows by the `now` passed in, Redis by its own clock: about an hour either way.
      expect(retryAfterMs).toBeGreaterThan(HOUR - 5 * MINUTE);
      expect(retryAfterMs).toBeLessThanOrEqual(HOUR);
      // Refusing did not consume it: once the budget is cleared, the right code still works.
      await store.limits("reset", failures);
      expect((await store.consumeCode(key, consumeInput(c2, T + MINUTE, { failureLimits: failures }))).status).toBe("ok");
    });

    it("counts as a failure a consume on a missing record and any other code on a used or expired one, but not the used or expired code itself", async () => {
      fresh();
      const fail = rule(`${key}:fail`, 100, HOUR);
      const probe = (limit: number) => store.limits("check", [{ ...fail, limit }]);

      await store.consumeCode(`${key}:none`, consumeInput(digest(), T, { failureLimits: [fail] }));
      expect(await probe(1)).toMatchObject({ allowed: false });
      expect(await probe(2)).toEqual({ allowed: true });

      const h = digest();
      await store.issueCode(key, issueInput(h, T));
      await store.consumeCode(key, consumeInput(h, T, { failureLimits: [fail] })); // ok
      await store.consumeCode(key, consumeInput(h, T, { failureLimits: [fail] })); // used: the used code itself
      const old = digest();
      await store.issueCode(`${key}:old`, issueInput(old, T));
      await store.consumeCode(`${key}:old`, consumeInput(old, T + TTL, { failureLimits: [fail] })); // expired: the expired code itself
      expect(await probe(2)).toEqual({ allowed: true });
      await store.consumeCode(key, consumeInput(digest(), T, { failureLimits: [fail] })); // another code on the used record
      await store.consumeCode(`${key}:old`, consumeInput(digest(), T + TTL, { failureLimits: [fail] })); // and on the expired one
      expect(await probe(3)).toMatchObject({ allowed: false });
      expect(await probe(4)).toEqual({ allowed: true });
    });
  });

  describe("limits()", () => {
    it("hit: allows up to the limit, counting each, then refuses with the time left in the window", async () => {
      fresh();
      const r = rule(`${key}:hit`, 2, MINUTE);
      expect(await store.limits("hit", [r])).toEqual({ allowed: true });
      expect(await store.limits("hit", [r])).toEqual({ allowed: true });
      const refused = await store.limits("hit", [r]);
      expect(refused.allowed).toBe(false);
      const { retryAfterMs } = refused as { retryAfterMs: number };
      expect(retryAfterMs).toBeGreaterThan(MINUTE - 10_000);
      expect(retryAfterMs).toBeLessThanOrEqual(MINUTE);
    });

    it("hit: counts on no rule when one of them refuses (all or nothing)", async () => {
      fresh();
      const tight = rule(`${key}:tight`, 1, MINUTE);
      const loose = rule(`${key}:loose`, 3, MINUTE);
      expect(await store.limits("hit", [tight, loose])).toEqual({ allowed: true }); // loose: 1
      expect((await store.limits("hit", [tight, loose])).allowed).toBe(false); // must not count on loose
      expect((await store.limits("hit", [tight, loose])).allowed).toBe(false);
      expect(await store.limits("hit", [loose])).toEqual({ allowed: true }); // loose: 2
      expect(await store.limits("hit", [loose])).toEqual({ allowed: true }); // loose: 3
      expect((await store.limits("hit", [loose])).allowed).toBe(false);
    });

    it("hit: answers with the longest wait among the rules that refuse", async () => {
      fresh();
      const short = rule(`${key}:short`, 1, MINUTE);
      const long = rule(`${key}:long`, 1, HOUR);
      await store.limits("hit", [short, long]);
      const refused = (await store.limits("hit", [short, long])) as { allowed: false; retryAfterMs: number };
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(HOUR - MINUTE);
    });

    it("check: reads without counting", async () => {
      fresh();
      const r = rule(`${key}:check`, 2, MINUTE);
      for (let i = 0; i < 5; i++) expect(await store.limits("check", [r])).toEqual({ allowed: true });
      await store.limits("hit", [r]);
      await store.limits("hit", [r]);
      const refused = await store.limits("check", [r]);
      expect(refused.allowed).toBe(false);
      expect((refused as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    });

    it("record: counts whatever the count, and always answers allowed", async () => {
      fresh();
      const r = rule(`${key}:record`, 2, MINUTE);
      for (let i = 0; i < 3; i++) expect(await store.limits("record", [r])).toEqual({ allowed: true });
      expect((await store.limits("check", [r])).allowed).toBe(false);
      expect((await store.limits("check", [{ ...r, limit: 3 }])).allowed).toBe(false);
      expect(await store.limits("check", [{ ...r, limit: 4 }])).toEqual({ allowed: true });
    });

    it("reset: clears the counters", async () => {
      fresh();
      const r = rule(`${key}:reset`, 1, HOUR);
      await store.limits("hit", [r]);
      expect((await store.limits("check", [r])).allowed).toBe(false);
      expect(await store.limits("reset", [r])).toEqual({ allowed: true });
      expect(await store.limits("check", [r])).toEqual({ allowed: true });
      expect(await store.limits("hit", [r])).toEqual({ allowed: true });
    });

    it("refund: takes back one hit from each counter that has any, and answers allowed", async () => {
      fresh();
      const r = rule(`${key}:refund`, 2, HOUR);
      await store.limits("hit", [r]);
      await store.limits("hit", [r]);
      expect((await store.limits("check", [r])).allowed).toBe(false);
      expect(await store.limits("refund", [r])).toEqual({ allowed: true });
      expect(await store.limits("check", [r])).toEqual({ allowed: true });
      // One taken back, one left: the next hit fills the limit again.
      expect(await store.limits("hit", [r])).toEqual({ allowed: true });
      expect((await store.limits("hit", [r])).allowed).toBe(false);
    });

    it("refund: never below zero, on a counter that never counted or was refunded to zero", async () => {
      fresh();
      const counted = rule(`${key}:refund-counted`, 2, HOUR);
      const empty = rule(`${key}:refund-empty`, 2, HOUR);
      await store.limits("hit", [counted]);
      for (let i = 0; i < 3; i++) expect(await store.limits("refund", [counted, empty])).toEqual({ allowed: true });
      // Neither went below zero: each still takes exactly its limit of hits.
      for (const r of [counted, empty]) {
        expect(await store.limits("hit", [r])).toEqual({ allowed: true });
        expect(await store.limits("hit", [r])).toEqual({ allowed: true });
        expect((await store.limits("hit", [r])).allowed).toBe(false);
      }
    });

    it("refund: parallel refunds are atomic and stop at zero", async () => {
      fresh();
      const r = rule(`${key}:refund-race`, 10, HOUR);
      for (let i = 0; i < 10; i++) await store.limits("hit", [r]);
      const answers = await Promise.all(Array.from({ length: 25 }, () => store.limits("refund", [r])));
      expect(answers.every((a) => a.allowed)).toBe(true);
      for (let i = 0; i < 10; i++) expect(await store.limits("hit", [r]), `hit ${i + 1}`).toEqual({ allowed: true });
      expect((await store.limits("hit", [r])).allowed).toBe(false);
    });

    it("refund: a refunded counter still ends after its window", async () => {
      fresh();
      const r = rule(`${key}:refund-window`, 1, 300);
      expect(await store.limits("hit", [r])).toEqual({ allowed: true });
      await store.limits("refund", [r]);
      expect(await store.limits("hit", [r])).toEqual({ allowed: true });
      expect((await store.limits("hit", [r])).allowed).toBe(false);
      await sleep(450);
      expect(await store.limits("hit", [r])).toEqual({ allowed: true });
    });

    it("a window ends on the store's clock: the counter starts over after windowMs", async () => {
      fresh();
      const r = rule(`${key}:window`, 1, 300);
      expect(await store.limits("hit", [r])).toEqual({ allowed: true });
      expect((await store.limits("hit", [r])).allowed).toBe(false);
      await sleep(450);
      expect(await store.limits("hit", [r])).toEqual({ allowed: true });
    });
  });

  describe("readValues / writeValue", () => {
    it("reads back written values in order, null for missing keys", async () => {
      fresh();
      await store.writeValue(`${key}:a`, "one", MINUTE);
      await store.writeValue(`${key}:b`, '{"json":"stays a string"}', MINUTE);
      expect(await store.readValues([`${key}:a`, `${key}:missing`, `${key}:b`])).toEqual(["one", null, '{"json":"stays a string"}']);
      expect(await store.readValues([])).toEqual([]);
    });

    it("forget removes code records and values, and leaves other keys alone", async () => {
      fresh();
      await store.issueCode(`${key}:c`, {
        codeHash: "h1",
        payload: "",
        now: T,
        ttlMs: MINUTE,
        maxLifetimeMs: 30 * MINUTE,
        retentionMs: MINUTE,
        sendLimits: [],
      });
      await store.writeValue(`${key}:v`, "1", MINUTE);
      await store.writeValue(`${key}:kept`, "2", MINUTE);
      await store.forget([`${key}:c`, `${key}:v`]);
      expect(await store.readValues([`${key}:v`, `${key}:kept`])).toEqual([null, "2"]);
      expect((await store.consumeCode(`${key}:c`, { codeHash: "h1", now: T + 1, maxAttempts: 5, failureLimits: [] })).status).toBe("missing");
      await store.forget([]);
    });

    it("overwrites a value and forgets it after its ttl", async () => {
      fresh();
      await store.writeValue(`${key}:v`, "1", MINUTE);
      await store.writeValue(`${key}:v`, "2", 250);
      expect(await store.readValues([`${key}:v`])).toEqual(["2"]);
      await sleep(400);
      expect(await store.readValues([`${key}:v`])).toEqual([null]);
    });
  });

  describe("takeValue", () => {
    it("answers a written value once, then null: the take deletes it", async () => {
      fresh();
      await store.writeValue(`${key}:t`, "one use", MINUTE);
      expect(await store.takeValue(`${key}:t`)).toBe("one use");
      expect(await store.takeValue(`${key}:t`)).toBeNull();
      expect(await store.readValues([`${key}:t`])).toEqual([null]);
      expect(await store.takeValue(`${key}:never-written`)).toBeNull();
    });

    it("answers null for a value whose ttl has passed", async () => {
      fresh();
      await store.writeValue(`${key}:t`, "short", 250);
      await sleep(400);
      expect(await store.takeValue(`${key}:t`)).toBeNull();
    });

    it("20 parallel takes of one value: exactly one gets it", async () => {
      fresh();
      await store.writeValue(`${key}:t`, "winner", MINUTE);
      const taken = await Promise.all(Array.from({ length: 20 }, () => store.takeValue(`${key}:t`)));
      expect(taken.filter((v) => v !== null)).toEqual(["winner"]);
    });
  });

  describe("raiseValue", () => {
    it("stores a number, refuses to lower it, raises it, and answers what the key holds", async () => {
      fresh();
      expect(await store.raiseValue(`${key}:n`, 5, MINUTE)).toBe(5);
      expect(await store.raiseValue(`${key}:n`, 3, MINUTE)).toBe(5);
      expect(await store.readValues([`${key}:n`])).toEqual(["5"]);
      expect(await store.raiseValue(`${key}:n`, 5, MINUTE)).toBe(5);
      expect(await store.raiseValue(`${key}:n`, 9, MINUTE)).toBe(9);
      expect(await store.readValues([`${key}:n`])).toEqual(["9"]);
      expect(await store.raiseValue(`${key}:neg`, -1, MINUTE)).toBe(-1);
      expect(await store.raiseValue(`${key}:neg`, 0, MINUTE)).toBe(0);
    });

    it("keeps a higher number with its own ttl when a lower one is refused, and takes any number once it expired", async () => {
      fresh();
      await store.raiseValue(`${key}:n`, 7, 250);
      expect(await store.raiseValue(`${key}:n`, 2, MINUTE)).toBe(7);
      await sleep(400);
      expect(await store.readValues([`${key}:n`])).toEqual([null]);
      expect(await store.raiseValue(`${key}:n`, 2, MINUTE)).toBe(2);
    });

    it("replaces a value that is not a number", async () => {
      fresh();
      await store.writeValue(`${key}:n`, "not a number", MINUTE);
      expect(await store.raiseValue(`${key}:n`, 1, MINUTE)).toBe(1);
    });

    it("ends on the highest of 20 parallel raises, whatever order they land in", async () => {
      fresh();
      const values = Array.from({ length: 20 }, (_, i) => (i * 7) % 20);
      await Promise.all(values.map((v) => store.raiseValue(`${key}:n`, v, MINUTE)));
      expect(await store.readValues([`${key}:n`])).toEqual(["19"]);
    });
  });

  describe("races", () => {
    it("20 parallel consumes with the right code: exactly one ok, the rest used", async () => {
      fresh();
      const h = digest();
      await store.issueCode(key, issueInput(h, T, { payload: "winner" }));
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => store.consumeCode(key, consumeInput(h, T))));
      expect(outcomes.filter((o) => o.status === "ok")).toEqual([{ status: "ok", payload: "winner" }]);
      expect(outcomes.filter((o) => o.status !== "ok")).toEqual(Array.from({ length: 19 }, () => ({ status: "used" })));
    });

    it("50 parallel wrong guesses on one code: at most maxAttempts evaluated, the rest too_many_attempts", async () => {
      fresh();
      const h = digest();
      const fail = rule(`${key}:fail`, 1000, HOUR);
      await store.issueCode(key, issueInput(h, T));
      const outcomes = await Promise.all(Array.from({ length: 50 }, () => store.consumeCode(key, consumeInput(digest(), T, { failureLimits: [fail] }))));
      const statuses = outcomes.map((o) => o.status);
      expect(statuses.filter((s) => s === "wrong_code")).toHaveLength(MAX_ATTEMPTS - 1);
      expect(statuses.filter((s) => s === "too_many_attempts")).toHaveLength(50 - (MAX_ATTEMPTS - 1));
      // The failure counter saw exactly the evaluated guesses.
      expect((await store.limits("check", [{ ...fail, limit: MAX_ATTEMPTS }])).allowed).toBe(false);
      expect(await store.limits("check", [{ ...fail, limit: MAX_ATTEMPTS + 1 }])).toEqual({ allowed: true });
      expect(await store.consumeCode(key, consumeInput(h, T))).toEqual({ status: "too_many_attempts" });
    });

    it("50 parallel guesses under a failure budget of 10: never more than 10 evaluated", async () => {
      fresh();
      const fail = rule(`${key}:fail`, 10, HOUR);
      // Five codes under five keys sharing one budget, as the service's per-email budget does.
      const keys = Array.from({ length: 5 }, (_, i) => `${key}:${i}`);
      for (const k of keys) await store.issueCode(k, issueInput(digest(), T));
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.consumeCode(keys[i % 5]!, consumeInput(digest(), T, { failureLimits: [fail] }))),
      );
      const evaluated = outcomes.filter((o) => o.status === "wrong_code" || o.status === "too_many_attempts").length;
      expect(evaluated).toBeLessThanOrEqual(10);
      expect(outcomes.filter((o) => o.status === "rate_limited").length).toBeGreaterThanOrEqual(40);
    });

    it("50 parallel guesses under a budget beside the records and a tighter one elsewhere (another slot on a cluster): exactly 10 evaluated, each counted on both", async () => {
      // As the service's limits: the address's budget shares its records' hash tag, the client IP's does not.
      const address = `{${ns()}}`;
      const own = rule(`${address}:fail`, 1000, HOUR);
      const ip = rule(`${ns()}:ip:fail`, 10, HOUR);
      const keys = Array.from({ length: 5 }, (_, i) => `${address}:code:${i}`);
      for (const k of keys) await store.issueCode(k, issueInput(digest(), Date.now()));
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.consumeCode(keys[i % 5]!, consumeInput(digest(), Date.now(), { maxAttempts: 1000, failureLimits: [own, ip] })),
        ),
      );
      expect(outcomes.filter((o) => o.status === "wrong_code")).toHaveLength(10);
      expect(outcomes.filter((o) => o.status === "rate_limited")).toHaveLength(40);
      // Refused attempts left nothing counted anywhere: both counters hold exactly the 10 evaluated guesses.
      for (const counter of [own, ip]) {
        expect((await store.limits("check", [{ ...counter, limit: 10 }])).allowed).toBe(false);
        expect(await store.limits("check", [{ ...counter, limit: 11 }])).toEqual({ allowed: true });
      }
    });
  });

  describe("delivery queue", () => {
    // The networked stores share one queue on one server: each test starts from an empty queue, on a clock of its own
    // far from the others' (pace and pauses are absolute times).
    async function emptyQueue(): Promise<number> {
      queueClock += 48 * HOUR;
      const base = queueClock;
      for (;;) {
        const claim = await store.claimDelivery({ now: 9e15, leaseMs: 1, intervalMs: 0 });
        if (claim.status === "empty") return base;
        if (claim.status === "job") await store.settleDelivery({ id: claim.job.id, done: true });
      }
    }
    const job = (id: string, dueAt: number, deadline = dueAt + TTL) => ({ id, body: `v1.${id}.sealed|body.tag`, dueAt, deadline });

    it("hands jobs out in order of due time, each leased once with its body intact, and is empty once they are settled", async () => {
      const T = await emptyQueue();
      for (const [id, due] of [
        ["b", T + 2],
        ["a", T + 1],
        ["c", T + 3],
      ] as const)
        expect(await store.enqueueDelivery(job(id, due))).toBe(true);
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        const claim = await store.claimDelivery({ now: T + 10, leaseMs: MINUTE, intervalMs: 0 });
        if (claim.status !== "job") throw new Error(`expected a job, got ${JSON.stringify(claim)}`);
        expect(claim.job.body).toBe(`v1.${claim.job.id}.sealed|body.tag`);
        expect(claim.job.attempts).toBe(1);
        seen.push(claim.job.id);
      }
      expect(seen).toEqual(["a", "b", "c"]);
      // Leased: nothing is due until the lease runs out.
      expect(await store.claimDelivery({ now: T + 20, leaseMs: MINUTE, intervalMs: 0 })).toEqual({ status: "wait", waitMs: MINUTE - 10 });
      for (const id of seen) await store.settleDelivery({ id, done: true });
      expect(await store.claimDelivery({ now: T + 30, leaseMs: MINUTE, intervalMs: 0 })).toEqual({ status: "empty" });
    });

    it("paces hand-outs to one per interval, and hands an unsettled job out again after its lease with its attempts counted", async () => {
      const T = await emptyQueue();
      await store.enqueueDelivery(job("p1", T));
      await store.enqueueDelivery(job("p2", T + 1));
      expect(await store.claimDelivery({ now: T + 5, leaseMs: 1_000, intervalMs: 500 })).toMatchObject({ status: "job", job: { id: "p1" } });
      expect(await store.claimDelivery({ now: T + 105, leaseMs: 1_000, intervalMs: 500 })).toEqual({ status: "wait", waitMs: 400 });
      expect(await store.claimDelivery({ now: T + 505, leaseMs: 1_000, intervalMs: 500 })).toMatchObject({ status: "job", job: { id: "p2" } });
      expect(await store.claimDelivery({ now: T + 1_010, leaseMs: 1_000, intervalMs: 500 })).toMatchObject({ status: "job", job: { id: "p1", attempts: 2 } });
    });

    it("a retry with a pause holds every job back until then and keeps the job's place; a job past its deadline is reported expired once", async () => {
      const T = await emptyQueue();
      await store.enqueueDelivery(job("r1", T));
      await store.enqueueDelivery(job("r2", T + 1));
      await store.enqueueDelivery(job("old", T + 2, T + 100));
      expect(await store.claimDelivery({ now: T + 10, leaseMs: MINUTE, intervalMs: 0 })).toMatchObject({ job: { id: "r1" } });
      await store.settleDelivery({ id: "r1", done: false, retryAt: T, pauseUntil: T + 1_010 });
      expect(await store.claimDelivery({ now: T + 20, leaseMs: MINUTE, intervalMs: 0 })).toEqual({ status: "wait", waitMs: 990 });
      expect(await store.claimDelivery({ now: T + 1_010, leaseMs: MINUTE, intervalMs: 0 })).toMatchObject({ status: "job", job: { id: "r1", attempts: 2 } });
      expect(await store.claimDelivery({ now: T + 1_011, leaseMs: MINUTE, intervalMs: 0 })).toMatchObject({ status: "job", job: { id: "r2" } });
      expect(await store.claimDelivery({ now: T + 1_012, leaseMs: MINUTE, intervalMs: 0 })).toMatchObject({
        status: "expired",
        job: { id: "old", attempts: 0 },
      });
      expect(await store.claimDelivery({ now: T + 1_013, leaseMs: MINUTE, intervalMs: 0 })).toMatchObject({ status: "wait" });
    });
  });

  describe("a new client", () => {
    it("answers 10 parallel first calls, none refused while it is still connecting", async () => {
      fresh();
      const cold = harness.create();
      const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => cold.limits("hit", [rule(`${key}:cold:${i}`, 5, MINUTE)])));
      expect(outcomes.map((o) => (o.status === "fulfilled" ? o.value : String((o.reason as Error)?.cause ?? o.reason)))).toEqual(
        Array.from({ length: 10 }, () => ({ allowed: true })),
      );
    });
  });

  if (harness.networked) {
    describe("outage (fail closed) and recovery", () => {
      it("rejects every method with StoreUnavailableError within a few seconds while Redis is down, and works again without a new client", async () => {
        fresh();
        const h = digest();
        // Warm: the client is connected and the scripts are loaded before the outage.
        await store.ping();
        await store.issueCode(key, issueInput(h, T));

        const server = harness.server!();
        await server.stop();
        try {
          const calls: Array<[string, Promise<unknown>]> = [
            ["issueCode", store.issueCode(`${key}:2`, issueInput(digest(), T))],
            ["consumeCode", store.consumeCode(key, consumeInput(h, T))],
            ["limits", store.limits("hit", [rule(`${key}:l`, 5, MINUTE)])],
            ["readValues", store.readValues([`${key}:v`])],
            ["writeValue", store.writeValue(`${key}:v`, "x", MINUTE)],
            ["raiseValue", store.raiseValue(`${key}:n`, 1, MINUTE)],
            ["takeValue", store.takeValue(`${key}:v`)],
            ["ping", store.ping()],
          ];
          const settled = await Promise.all(calls.map(async ([name, p]) => ({ name, ...(await settle(p)) })));
          for (const result of settled) {
            expect(result.error, `${result.name} rejects`).toBeInstanceOf(StoreUnavailableError);
            expect(result.ms, `${result.name} answers within 8 s`).toBeLessThan(8_000);
          }
          // A second round, after the client noticed the outage, fails as fast.
          const again = await settle(store.consumeCode(key, consumeInput(h, T)));
          expect(again.error).toBeInstanceOf(StoreUnavailableError);
          expect(again.ms).toBeLessThan(8_000);
        } finally {
          await server.start();
        }

        // Same store object: it reconnects by itself.
        const deadline = Date.now() + 15_000;
        for (;;) {
          try {
            await store.ping();
            break;
          } catch (error) {
            expect(error).toBeInstanceOf(StoreUnavailableError);
            if (Date.now() > deadline) throw new Error("the store did not recover within 15 s after Redis came back");
            await sleep(200);
          }
        }
        // Redis restarted empty (no persistence): the scripts must be loaded again (NOSCRIPT fallback) and work.
        const after = digest();
        fresh();
        expect(await store.issueCode(key, issueInput(after, T, { payload: "back" }))).toEqual({ status: "issued", expiresAt: T + TTL });
        expect(await store.consumeCode(key, consumeInput(after, T))).toEqual({ status: "ok", payload: "back" });
        expect(await store.limits("hit", [rule(`${key}:l`, 1, MINUTE)])).toEqual({ allowed: true });
        await store.writeValue(`${key}:v`, "back", MINUTE);
        expect(await store.readValues([`${key}:v`])).toEqual(["back"]);
        expect(await store.raiseValue(`${key}:n`, 4, MINUTE)).toBe(4);
      }, 60_000);
    });
  }
});

describe("Redis Cluster: every script touches one slot", () => {
  it("the cluster refuses a script over keys of two slots (CROSSSLOT), and the store answers the same call split per slot", async () => {
    const raw = createCluster({ rootNodes: [{ url: cluster.url }], RESP: 2 });
    raw.on("error", () => {});
    await raw.connect();
    try {
      const record = `${ns()}:code`;
      const ipCounter = rule(`${ns()}:ip:fail`, 5, HOUR);
      const unsplit = scriptCalls.consume(record, consumeInput(digest(), Date.now(), { failureLimits: [ipCounter] }));
      await expect(raw.eval(CONSUME_CODE_SCRIPT, { keys: unsplit.keys, arguments: unsplit.args })).rejects.toThrow(/CROSSSLOT/);

      const store = tcpStore(() => cluster.url)();
      expect(await store.consumeCode(record, consumeInput(digest(), Date.now(), { failureLimits: [ipCounter] }))).toEqual({ status: "missing" });
      expect((await store.limits("check", [{ ...ipCounter, limit: 1 }])).allowed).toBe(false);
    } finally {
      await raw.close();
    }
  });

  it("REDIS_CLUSTER=true (topology given, not detected) works the same", async () => {
    const store = tcpStore(() => cluster.url, true)();
    const record = `${ns()}:code`;
    const h = digest();
    const send = rule(`${ns()}:send`, 1, MINUTE);
    expect((await store.issueCode(record, issueInput(h, Date.now(), { sendLimits: [send] }))).status).toBe("issued");
    expect(await store.issueCode(record, issueInput(digest(), Date.now(), { sendLimits: [send] }))).toMatchObject({ status: "limited" });
    expect(await store.consumeCode(record, consumeInput(h, Date.now()))).toEqual({ status: "ok", payload: "" });
  });

  it("groups keys as Redis Cluster hashes them: by the first non-empty {tag}, else the whole key", () => {
    expect(slotPart("limit:{abc}:send:hour")).toBe("abc");
    expect(slotPart("code:{abc}:verify_email")).toBe("abc");
    expect(slotPart("limit:ip:203.0.113.9:code-fail")).toBe("limit:ip:203.0.113.9:code-fail");
    expect(slotPart("a{}b{c}")).toBe("a{}b{c}");
    expect(slotPart("{account:7}{x}")).toBe("account:7");
  });
});
