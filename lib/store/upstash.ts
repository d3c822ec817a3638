import "server-only";
import { Redis } from "@upstash/redis";
import { StoreUnavailableError, type CodeStore } from "./code-store";
import {
  CONSUME_CODE_SCRIPT,
  DELIVERY_SCRIPT,
  ISSUE_CODE_SCRIPT,
  LIMITS_SCRIPT,
  RAISE_VALUE_SCRIPT,
  TAKE_VALUE_SCRIPT,
  parseClaimReply,
  parseConsumeReply,
  parseIssueReply,
  parseLimitReply,
  parseRaiseReply,
  parseTakeReply,
  scriptCalls,
} from "./scripts";

const REQUEST_TIMEOUT_MS = 3_000;

/** Upstash Redis over its REST API (UPSTASH_REDIS_REST_URL / _TOKEN), the natural fit on Vercel. */
export class UpstashCodeStore implements CodeStore {
  private readonly redis: Redis;
  private readonly scripts;

  constructor(url: string, token: string) {
    this.redis = new Redis({
      url,
      token,
      // Payloads are JSON strings that must come back as strings, not parsed objects.
      automaticDeserialization: false,
      retry: { retries: 1, backoff: () => 50 },
      signal: () => AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    // Each runs EVALSHA, and EVAL once when the server does not know the script yet.
    this.scripts = {
      issue: this.redis.createScript<unknown>(ISSUE_CODE_SCRIPT),
      consume: this.redis.createScript<unknown>(CONSUME_CODE_SCRIPT),
      limits: this.redis.createScript<unknown>(LIMITS_SCRIPT),
      raise: this.redis.createScript<unknown>(RAISE_VALUE_SCRIPT),
      take: this.redis.createScript<unknown>(TAKE_VALUE_SCRIPT),
      delivery: this.redis.createScript<unknown>(DELIVERY_SCRIPT),
    };
  }

  issueCode: CodeStore["issueCode"] = async (key, input) => {
    const { keys, args } = scriptCalls.issue(key, input);
    return parseIssueReply(await this.call(() => this.scripts.issue.exec(keys, args)));
  };

  consumeCode: CodeStore["consumeCode"] = async (key, input) => {
    const { keys, args } = scriptCalls.consume(key, input);
    return parseConsumeReply(await this.call(() => this.scripts.consume.exec(keys, args)));
  };

  limits: CodeStore["limits"] = async (mode, rules) => {
    const { keys, args } = scriptCalls.limits(mode, rules);
    return parseLimitReply(await this.call(() => this.scripts.limits.exec(keys, args)));
  };

  readValues: CodeStore["readValues"] = async (keys) => (keys.length ? this.call(() => this.redis.mget<Array<string | null>>(...keys)) : []);

  forget: CodeStore["forget"] = async (keys) => {
    if (keys.length) await this.call(() => this.redis.del(...keys));
  };

  writeValue: CodeStore["writeValue"] = async (key, value, ttlMs) => {
    await this.call(() => this.redis.set(key, value, { px: Math.max(1, Math.ceil(ttlMs)) }));
  };

  takeValue: CodeStore["takeValue"] = async (key) => parseTakeReply(await this.call(() => this.scripts.take.exec([key], [])));

  raiseValue: CodeStore["raiseValue"] = async (key, value, ttlMs) => {
    const { keys, args } = scriptCalls.raise(key, value, ttlMs);
    return parseRaiseReply(await this.call(() => this.scripts.raise.exec(keys, args)));
  };

  enqueueDelivery: CodeStore["enqueueDelivery"] = async (job) => {
    const { keys, args } = scriptCalls.enqueueDelivery(job);
    return Number(await this.call(() => this.scripts.delivery.exec(keys, args))) === 1;
  };

  claimDelivery: CodeStore["claimDelivery"] = async (input) => {
    const { keys, args } = scriptCalls.claimDelivery(input);
    return parseClaimReply(await this.call(() => this.scripts.delivery.exec(keys, args)));
  };

  settleDelivery: CodeStore["settleDelivery"] = async (input) => {
    const { keys, args } = scriptCalls.settleDelivery(input, Date.now());
    await this.call(() => this.scripts.delivery.exec(keys, args));
  };

  async ping(): Promise<void> {
    await this.call(() => this.redis.ping());
  }

  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }
}
