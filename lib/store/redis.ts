import "server-only";
import { createHash } from "node:crypto";
import { createClient, createCluster } from "@redis/client";
import { StoreUnavailableError, type CodeStore, type LimitMode, type LimitRule } from "./code-store";
import {
  CONSUME_CODE_SCRIPT,
  DELIVERY_SCRIPT,
  ISSUE_CODE_SCRIPT,
  LIMITS_SCRIPT,
  RAISE_VALUE_SCRIPT,
  TAKE_VALUE_SCRIPT,
  consumeCountedFailure,
  parseClaimReply,
  parseConsumeReply,
  parseIssueReply,
  parseLimitReply,
  parseRaiseReply,
  parseTakeReply,
  scriptCalls,
} from "./scripts";
import { holdAcross, limitsAcross, splitAround } from "./slots";

const COMMAND_TIMEOUT_MS = 2_000;

/** true: a Redis Cluster; false: one server; "auto": asks the server on first connection. */
export type RedisTopology = boolean | "auto";

const NODE_OPTIONS = {
  // Fail fast while disconnected instead of queueing: the caller answers 503 and the person retries.
  disableOfflineQueue: true,
  socket: { connectTimeout: COMMAND_TIMEOUT_MS, reconnectStrategy: (retries: number) => Math.min(retries * 100, 2_000) },
};

/** One Redis server over TCP. */
function connectSingle(url: string) {
  // Plain RESP2 replies: script results arrive as arrays of strings and integers.
  const client = createClient({ url, RESP: 2, ...NODE_OPTIONS });
  // Without a listener an 'error' event would crash the process; outages surface per command instead.
  client.on("error", () => {});
  return client;
}

/** A Redis Cluster, discovered from the one node in the URL. */
function connectCluster(url: string) {
  const { username, password, protocol } = new URL(url);
  const cluster = createCluster({
    rootNodes: [{ url }],
    // The discovered nodes get only these settings, not the root URL's: credentials and TLS go here too.
    defaults: {
      ...NODE_OPTIONS,
      ...(username ? { username: decodeURIComponent(username) } : {}),
      ...(password ? { password: decodeURIComponent(password) } : {}),
      socket: { ...NODE_OPTIONS.socket, ...(protocol === "rediss:" ? { tls: true as const } : {}) },
    },
    RESP: 2,
  });
  cluster.on("error", () => {});
  return cluster;
}

/** What this adapter asks of either client (their full types differ, these commands do not). */
interface Connection {
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  mGet(keys: string[]): Promise<Array<string | null>>;
  del(keys: string[]): Promise<unknown>;
  set(key: string, value: string, options: { expiration: { type: "PX"; value: number } }): Promise<unknown>;
  ping(): Promise<unknown>;
  info(section: string): Promise<string>;
}

/**
 * Any Redis over TCP (REDIS_URL), through node-redis: one server, where each operation is one script, or
 * a Redis Cluster, where an operation whose limits live in other slots is split per slot (lib/store/slots.ts).
 */
export class RedisCodeStore implements CodeStore {
  private client?: Connection;
  private clustered = false;
  private connecting?: Promise<unknown>;
  private detecting?: Promise<void>;

  constructor(
    private readonly url: string,
    topology: RedisTopology = "auto",
  ) {
    if (topology !== "auto") this.use(topology);
  }

  issueCode: CodeStore["issueCode"] = async (key, input) => {
    if (!(await this.isCluster())) return parseIssueReply(await this.run(ISSUE_CODE_SCRIPT, scriptCalls.issue(key, input)));
    const { home, away } = splitAround(key, input.sendLimits);
    const hold = await holdAcross(away, this.slotLimits, home);
    if (!hold.allowed) return { status: "limited", retryAfterMs: hold.retryAfterMs };
    const outcome = parseIssueReply(await this.run(ISSUE_CODE_SCRIPT, scriptCalls.issue(key, { ...input, sendLimits: home })));
    // The record's own limits refused: nothing was issued, so nothing may stay counted elsewhere.
    if (outcome.status === "limited") await hold.release();
    return outcome;
  };

  consumeCode: CodeStore["consumeCode"] = async (key, input) => {
    if (!(await this.isCluster())) return parseConsumeReply(await this.run(CONSUME_CODE_SCRIPT, scriptCalls.consume(key, input)));
    const { home, away } = splitAround(key, input.failureLimits);
    const hold = await holdAcross(away, this.slotLimits, home);
    if (!hold.allowed) return { status: "rate_limited", retryAfterMs: hold.retryAfterMs };
    const reply = await this.run(CONSUME_CODE_SCRIPT, scriptCalls.consume(key, { ...input, failureLimits: home }));
    // Counted where the script counted (a wrong code, a guess at no live record); otherwise the units go back.
    if (!consumeCountedFailure(reply)) await hold.release();
    return parseConsumeReply(reply);
  };

  limits: CodeStore["limits"] = async (mode, rules) => ((await this.isCluster()) ? limitsAcross(mode, rules, this.slotLimits) : this.slotLimits(mode, rules));

  // node-redis splits MGET and DEL by slot on a cluster by itself.
  readValues: CodeStore["readValues"] = async (keys) => (keys.length ? this.call((c) => c.mGet(keys)) : []);

  forget: CodeStore["forget"] = async (keys) => {
    if (keys.length) await this.call((c) => c.del(keys));
  };

  writeValue: CodeStore["writeValue"] = async (key, value, ttlMs) => {
    await this.call((c) => c.set(key, value, { expiration: { type: "PX", value: Math.max(1, Math.ceil(ttlMs)) } }));
  };

  takeValue: CodeStore["takeValue"] = async (key) => parseTakeReply(await this.run(TAKE_VALUE_SCRIPT, { keys: [key], args: [] }));

  raiseValue: CodeStore["raiseValue"] = async (key, value, ttlMs) => parseRaiseReply(await this.run(RAISE_VALUE_SCRIPT, scriptCalls.raise(key, value, ttlMs)));

  enqueueDelivery: CodeStore["enqueueDelivery"] = async (job) => Number(await this.run(DELIVERY_SCRIPT, scriptCalls.enqueueDelivery(job))) === 1;

  claimDelivery: CodeStore["claimDelivery"] = async (input) => parseClaimReply(await this.run(DELIVERY_SCRIPT, scriptCalls.claimDelivery(input)));

  settleDelivery: CodeStore["settleDelivery"] = async (input) => {
    await this.run(DELIVERY_SCRIPT, scriptCalls.settleDelivery(input, Date.now()));
  };

  async ping(): Promise<void> {
    await this.call((c) => c.ping());
  }

  async close(): Promise<void> {
    if (this.client?.isOpen) await this.client.close();
  }

  private slotLimits = async (mode: LimitMode, rules: LimitRule[]) => parseLimitReply(await this.run(LIMITS_SCRIPT, scriptCalls.limits(mode, rules)));

  private use(cluster: boolean, connected?: Connection) {
    this.clustered = cluster;
    this.client = connected ?? ((cluster ? connectCluster(this.url) : connectSingle(this.url)) as unknown as Connection);
  }

  private async isCluster(): Promise<boolean> {
    if (!this.client) await this.call(async () => undefined);
    return this.clustered;
  }

  /** Asks the server whether it is a cluster node; a single server's probe connection is kept as the client. */
  private async detect(): Promise<void> {
    const probe = connectSingle(this.url) as unknown as Connection;
    try {
      await probe.connect();
      const cluster = /^cluster_enabled:1\b/m.test(await probe.info("cluster"));
      if (cluster) await probe.close();
      this.use(cluster, cluster ? undefined : probe);
    } catch (error) {
      probe.destroy();
      throw error;
    }
  }

  private run(script: string, { keys, args }: { keys: string[]; args: string[] }): Promise<unknown> {
    const sha = sha1(script);
    return this.call(async (c) => {
      try {
        return await c.evalSha(sha, { keys, arguments: args });
      } catch (error) {
        if (!String((error as Error)?.message).startsWith("NOSCRIPT")) throw error;
        return c.eval(script, { keys, arguments: args });
      }
    });
  }

  private async call<T>(command: (client: Connection) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    // One deadline for connecting and the command: a Redis that is down at start-up must not hang a request.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("Redis command timed out")), COMMAND_TIMEOUT_MS);
    });
    try {
      if (!this.client) {
        // Every caller waits for the one probe; a probe that failed is tried again by the next call.
        this.detecting ??= this.detect().finally(() => (this.detecting = undefined));
        this.detecting.catch(() => {});
        await Promise.race([this.detecting, timeout]);
      }
      const client = this.client!;
      if (!client.isOpen) {
        this.connecting ??= client.connect().finally(() => (this.connecting = undefined));
        this.connecting.catch(() => {});
      }
      // The client counts as open while it is still connecting: every caller waits for that first connection.
      if (this.connecting) await Promise.race([this.connecting, timeout]);
      return await Promise.race([command(client), timeout]);
    } catch (error) {
      throw new StoreUnavailableError(error);
    } finally {
      clearTimeout(timer);
    }
  }
}

const shaCache = new Map<string, string>();
function sha1(script: string): string {
  let sha = shaCache.get(script);
  if (!sha) shaCache.set(script, (sha = createHash("sha1").update(script).digest("hex")));
  return sha;
}
