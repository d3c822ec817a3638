import { createHash } from "node:crypto";
import { createClient } from "redis";
import { StoreUnavailableError, type CodeStore } from "./code-store";
import {
  CONSUME_CODE_SCRIPT,
  DELIVERY_SCRIPT,
  ISSUE_CODE_SCRIPT,
  LIMITS_SCRIPT,
  RAISE_VALUE_SCRIPT,
  parseClaimReply,
  parseConsumeReply,
  parseIssueReply,
  parseLimitReply,
  parseRaiseReply,
  scriptCalls,
} from "./scripts";

const COMMAND_TIMEOUT_MS = 2_000;

/** Any Redis over TCP (REDIS_URL), through node-redis. */
function connect(url: string) {
  const client = createClient({
    url,
    // Fail fast while disconnected instead of queueing: the caller answers 503 and the person retries.
    disableOfflineQueue: true,
    // Plain RESP2 replies: script results arrive as arrays of strings and integers.
    RESP: 2,
    socket: { connectTimeout: COMMAND_TIMEOUT_MS, reconnectStrategy: (retries) => Math.min(retries * 100, 2_000) },
  });
  // Without a listener an 'error' event would crash the process; outages surface per command instead.
  client.on("error", () => {});
  return client;
}

type Client = ReturnType<typeof connect>;

export class RedisCodeStore implements CodeStore {
  private readonly client: Client;
  private connecting?: Promise<unknown>;

  constructor(url: string) {
    this.client = connect(url);
  }

  issueCode: CodeStore["issueCode"] = async (key, input) =>
    parseIssueReply(await this.run(ISSUE_CODE_SCRIPT, scriptCalls.issue(key, input)));

  consumeCode: CodeStore["consumeCode"] = async (key, input) =>
    parseConsumeReply(await this.run(CONSUME_CODE_SCRIPT, scriptCalls.consume(key, input)));

  limits: CodeStore["limits"] = async (mode, rules) =>
    parseLimitReply(await this.run(LIMITS_SCRIPT, scriptCalls.limits(mode, rules)));

  readValues: CodeStore["readValues"] = async (keys) => (keys.length ? this.call((c) => c.mGet(keys)) : []);

  writeValue: CodeStore["writeValue"] = async (key, value, ttlMs) => {
    await this.call((c) => c.set(key, value, { expiration: { type: "PX", value: Math.max(1, Math.ceil(ttlMs)) } }));
  };

  raiseValue: CodeStore["raiseValue"] = async (key, value, ttlMs) =>
    parseRaiseReply(await this.run(RAISE_VALUE_SCRIPT, scriptCalls.raise(key, value, ttlMs)));

  enqueueDelivery: CodeStore["enqueueDelivery"] = async (job) =>
    Number(await this.run(DELIVERY_SCRIPT, scriptCalls.enqueueDelivery(job))) === 1;

  claimDelivery: CodeStore["claimDelivery"] = async (input) => parseClaimReply(await this.run(DELIVERY_SCRIPT, scriptCalls.claimDelivery(input)));

  settleDelivery: CodeStore["settleDelivery"] = async (input) => {
    await this.run(DELIVERY_SCRIPT, scriptCalls.settleDelivery(input, Date.now()));
  };

  async ping(): Promise<void> {
    await this.call((c) => c.ping());
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
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

  private async call<T>(command: (client: Client) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    // One deadline for connecting and the command: a Redis that is down at start-up must not hang a request.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("Redis command timed out")), COMMAND_TIMEOUT_MS);
    });
    try {
      if (!this.client.isOpen) {
        this.connecting ??= this.client.connect().finally(() => (this.connecting = undefined));
        this.connecting.catch(() => {});
      }
      // The client counts as open while it is still connecting: every caller waits for that first connection.
      if (this.connecting) await Promise.race([this.connecting, timeout]);
      return await Promise.race([command(this.client), timeout]);
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
