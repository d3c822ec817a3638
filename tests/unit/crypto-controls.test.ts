import { createHmac, randomInt, timingSafeEqual } from "node:crypto";
import { availableParallelism } from "node:os";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CODE_PURPOSES, codeKey, generateCode, hashCode } from "@/lib/codes/codes";
import { hashPassword, verifyPassword } from "@/lib/credentials/passwords";
import { MemoryCodeStore } from "@/lib/store/memory";
import { CONSUME_CODE_SCRIPT, ISSUE_CODE_SCRIPT, LIMITS_SCRIPT } from "@/lib/store/scripts";

/**
 * The cryptographic controls, each pinned to concrete values: the code generator (CSPRNG, six digits,
 * leading zeros), the Argon2id parameters and the bound on hashes in flight, the keyed code hashes and the
 * constant-time comparisons of the in-process store and (by reading its source) of the Lua scripts.
 *
 * node:crypto is mocked with its real functions wrapped in spies (ESM allows it: vitest owns the module
 * graph of lib/), so the tests see which primitive the product calls. @node-rs/argon2 is mocked the same
 * way: real hashing unless a test takes control of `hash` to count the calls in flight.
 */

vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return { ...actual, randomInt: vi.fn(actual.randomInt), timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

/** Shared with the @node-rs/argon2 mock: off, it hashes for real; on, each hash waits for release(). */
const argon = vi.hoisted(() => ({
  controlled: false,
  inFlight: 0,
  maxInFlight: 0,
  started: [] as string[],
  pending: [] as Array<() => void>,
}));

vi.mock("@node-rs/argon2", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@node-rs/argon2")>();
  return {
    ...actual,
    hash: (password: string, options: Parameters<typeof actual.hash>[1]) => {
      if (!argon.controlled) return actual.hash(password, options);
      argon.inFlight += 1;
      argon.maxInFlight = Math.max(argon.maxInFlight, argon.inFlight);
      argon.started.push(password);
      return new Promise<string>((resolve) => {
        argon.pending.push(() => {
          argon.inFlight -= 1;
          resolve(`fake-hash:${password}`);
        });
      });
    },
  };
});

afterEach(() => {
  argon.controlled = false;
  vi.mocked(randomInt).mockClear();
  vi.mocked(timingSafeEqual).mockClear();
});

/** From here on each hash waits for its release(), counted from zero. */
function takeControlOfArgon() {
  argon.controlled = true;
  argon.inFlight = 0;
  argon.maxInFlight = 0;
  argon.started.length = 0;
  argon.pending.length = 0;
}

/** Lets every queued promise continuation run (several microtask turns and one macrotask turn). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("generateCode", () => {
  it("draws from node:crypto randomInt(0, 1000000) and zero-pads what it returns to six digits", () => {
    const spy = vi.mocked(randomInt);
    spy
      .mockReturnValueOnce(42 as never)
      .mockReturnValueOnce(0 as never)
      .mockReturnValueOnce(999_999 as never);
    expect([generateCode(), generateCode(), generateCode()]).toEqual(["000042", "000000", "999999"]);
    expect(spy).toHaveBeenCalledTimes(3);
    for (const call of spy.mock.calls) expect(call).toEqual([0, 1_000_000]);
  });

  it("over 200,000 draws: always 6 ASCII digits, every first digit 0-9, ~10% below 100000, no code more than 8 times", () => {
    const DRAWS = 200_000;
    const counts = new Map<string, number>();
    const firstDigits = new Array<number>(10).fill(0);
    let belowHundredThousand = 0;
    for (let i = 0; i < DRAWS; i++) {
      const code = generateCode();
      if (!/^[0-9]{6}$/.test(code)) throw new Error(`not six ASCII digits: ${JSON.stringify(code)}`);
      counts.set(code, (counts.get(code) ?? 0) + 1);
      const digit = code.charCodeAt(0) - 48;
      firstDigits[digit] = (firstDigits[digit] ?? 0) + 1;
      if (Number(code) < 100_000) belowHundredThousand += 1;
    }
    expect(vi.mocked(randomInt)).toHaveBeenCalledTimes(DRAWS);
    // Each first digit is expected 20,000 times (sd ~134); 15,000 is a sanity floor, not a statistics test.
    for (let digit = 0; digit <= 9; digit++) expect(firstDigits[digit], `first digit ${digit}`).toBeGreaterThan(15_000);
    const leadingZeroShare = belowHundredThousand / DRAWS;
    expect(leadingZeroShare).toBeGreaterThan(0.08);
    expect(leadingZeroShare).toBeLessThan(0.12);
    // 200,000 draws over 10^6 codes: ~181,000 distinct expected; a code 9+ times has odds ~1e-6.
    expect(counts.size).toBeGreaterThan(175_000);
    let mostRepeats = 0;
    for (const n of counts.values()) mostRepeats = Math.max(mostRepeats, n);
    expect(mostRepeats).toBeGreaterThanOrEqual(2); // ~17,500 codes repeat at these odds
    expect(mostRepeats).toBeLessThanOrEqual(8);
  });
});

describe("Argon2id passwords", () => {
  const PASSWORD = "correct horse battery staple";

  it("hashPassword yields a salted PHC string with m=19456,t=2,p=1; verifyPassword accepts the right password only", async () => {
    const [first, second] = await Promise.all([hashPassword(PASSWORD), hashPassword(PASSWORD)]);
    for (const h of [first, second]) {
      expect(h.startsWith("$argon2id$v=19$m=19456,t=2,p=1$")).toBe(true);
      // salt and tag in unpadded base64: 16-byte salt (22 chars), 32-byte tag (43 chars)
      expect(h).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    }
    expect(first).not.toBe(second);
    expect(first.split("$")[4]).not.toBe(second.split("$")[4]);
    await expect(verifyPassword(first, PASSWORD)).resolves.toBe(true);
    await expect(verifyPassword(second, PASSWORD)).resolves.toBe(true);
    await expect(verifyPassword(first, `${PASSWORD}!`)).resolves.toBe(false);
    await expect(verifyPassword(first, "")).resolves.toBe(false);
  });

  it("verifyPassword answers false (does not throw) for a malformed hash", async () => {
    await expect(verifyPassword("not-a-phc-string", PASSWORD)).resolves.toBe(false);
    await expect(verifyPassword("", PASSWORD)).resolves.toBe(false);
    await expect(verifyPassword("$argon2id$v=19$m=19456,t=2,p=1$broken", PASSWORD)).resolves.toBe(false);
  });

  it("never has more than os.availableParallelism() hashes in flight across 3x that many hashPassword calls, and all finish", async () => {
    const cores = availableParallelism();
    takeControlOfArgon();

    const passwords = Array.from({ length: 3 * cores }, (_, i) => `password-${i}`);
    const results = Promise.all(passwords.map((p) => hashPassword(p)));
    await flush();
    // Exactly `cores` started, the rest wait their turn.
    expect(argon.inFlight).toBe(cores);
    expect(argon.started).toEqual(passwords.slice(0, cores));

    let released = 0;
    while (argon.pending.length > 0) {
      argon.pending.shift()!();
      released += 1;
      await flush();
      expect(argon.inFlight).toBeLessThanOrEqual(cores);
      // while calls still wait, every freed slot is taken again at once
      expect(argon.inFlight).toBe(Math.min(cores, passwords.length - released));
    }
    expect(released).toBe(3 * cores);
    expect(argon.maxInFlight).toBe(cores);
    expect(argon.started).toEqual(passwords); // first come, first served
    await expect(results).resolves.toEqual(passwords.map((p) => `fake-hash:${p}`));
  });

  it("a call arriving while a finished hash wakes the next waiting one does not take its slot (never more than the cores in flight)", async () => {
    const cores = availableParallelism();
    takeControlOfArgon();
    const calls: Promise<string>[] = Array.from({ length: cores + 6 }, (_, i) => hashPassword(`queued-${i}`));
    await flush();
    // A newcomer lands 0, 1, 2 … microtask turns after a release: wherever the hand-over's gap is, one lands in it.
    for (let depth = 0; depth < 6; depth++) {
      argon.pending.shift()!();
      let turn: Promise<void> = Promise.resolve();
      for (let i = 0; i < depth; i++) turn = turn.then(() => undefined);
      calls.push(turn.then(() => hashPassword(`newcomer-${depth}`)));
      await flush();
      expect(argon.inFlight, `newcomer after ${depth} microtask turns`).toBeLessThanOrEqual(cores);
    }
    while (argon.pending.length > 0) {
      argon.pending.shift()!();
      await flush();
    }
    expect(argon.maxInFlight).toBe(cores);
    await Promise.all(calls);
  });
});

describe("keyed code hashes and constant-time comparison", () => {
  const keyA = Buffer.alloc(32, 1);
  const keyB = Buffer.alloc(32, 2);
  const emailId = "a1b2c3";

  it("hashCode is HMAC-SHA256 (64 hex) over key:code, and differs for the same code under another key, purpose or address", () => {
    const key = codeKey(emailId, "verify_email");
    expect(key).toBe("code:{a1b2c3}:verify_email");
    const digest = hashCode(keyA, key, "123456");
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(digest).toBe(createHmac("sha256", keyA).update("code:{a1b2c3}:verify_email:123456").digest("hex"));
    expect(hashCode(keyA, key, "123456")).toBe(digest); // deterministic

    const digests = new Set<string>();
    for (const hmacKey of [keyA, keyB]) {
      for (const purpose of CODE_PURPOSES) {
        for (const id of [emailId, "d4e5f6"]) digests.add(hashCode(hmacKey, codeKey(id, purpose), "123456"));
      }
    }
    expect(digests.size).toBe(2 * CODE_PURPOSES.length * 2);
    expect(hashCode(keyA, key, "123457")).not.toBe(digest);
  });

  it("the in-process store compares digests with timingSafeEqual: equal -> ok, same-length different -> wrong, other length -> wrong without throwing", async () => {
    const store = new MemoryCodeStore();
    const spy = vi.mocked(timingSafeEqual);
    const now = Date.now();
    const key = codeKey(emailId, "verify_email");
    const right = hashCode(keyA, key, "123456");
    const issue = () =>
      store.issueCode(key, { codeHash: right, payload: "p", now, ttlMs: 600_000, maxLifetimeMs: 1_800_000, retentionMs: 600_000, sendLimits: [] });
    const consume = (codeHash: string) => store.consumeCode(key, { codeHash, now: now + 1, maxAttempts: 5, failureLimits: [] });

    await expect(issue()).resolves.toEqual({ status: "issued", expiresAt: now + 600_000 });

    // Same length, last hex digit changed.
    const sameLength = right.slice(0, 63) + (right[63] === "0" ? "1" : "0");
    spy.mockClear();
    await expect(consume(sameLength)).resolves.toEqual({ status: "wrong_code" });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.results[0]).toEqual({ type: "return", value: false });

    // Another length: refused before timingSafeEqual (which would throw on unequal lengths).
    spy.mockClear();
    await expect(consume(right.slice(0, 32))).resolves.toEqual({ status: "wrong_code" });
    await expect(consume(`${right}00`)).resolves.toEqual({ status: "wrong_code" });
    expect(spy).not.toHaveBeenCalled();

    spy.mockClear();
    await expect(consume(right)).resolves.toEqual({ status: "ok", payload: "p" });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.results[0]).toEqual({ type: "return", value: true });
    const [a, b] = spy.mock.calls[0] as [Buffer, Buffer];
    expect(Buffer.isBuffer(a) && Buffer.isBuffer(b)).toBe(true);
    expect(a.toString()).toBe(right);
    expect(b.toString()).toBe(right);
  });

  it("SOURCE CHECK (reads the Lua text, does not run it): the scripts' same() compares every character, no early return in its loop", () => {
    const sameFunction = /local function same\(x, y\)\n([\s\S]*?)\nend\n/;
    const match = CONSUME_CODE_SCRIPT.match(sameFunction);
    expect(match).not.toBeNull();
    const body = (match?.[1] ?? "").split("\n").map((line) => line.trim());
    expect(body).toEqual([
      "if #x ~= #y then return false end",
      "local d = 0",
      "for i = 1, #x do d = d + math.abs(string.byte(x, i) - string.byte(y, i)) end",
      "return d == 0",
    ]);
    // The loop spans every index and holds no return/break: a mismatch only adds to d.
    const loop = body.find((line) => line.startsWith("for "))!;
    expect(loop).toMatch(/^for i = 1, #x do /);
    expect(loop).not.toMatch(/\breturn\b|\bbreak\b/);
    // The comparison of code hashes goes through same(), never through ==.
    expect(CONSUME_CODE_SCRIPT).toContain("same(r[1], ARGV[1])");
    expect(CONSUME_CODE_SCRIPT).toContain("same(r[3], ARGV[1])");
    expect(CONSUME_CODE_SCRIPT).not.toMatch(/r\[[13]\] == ARGV\[1\]/);
    // Every script carries the same library copy.
    for (const script of [LIMITS_SCRIPT, ISSUE_CODE_SCRIPT]) expect(script.match(sameFunction)?.[1]).toBe(match![1]);
  });
});
