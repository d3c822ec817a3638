import { Redis } from "@upstash/redis";
import { StoreUnavailableError, type CodeStore } from "./code-store";
import {
  CONSUME_CODE_SCRIPT,
  ISSUE_CODE_SCRIPT,
  consumeArgs,
  issueArgs,
  parseConsumeReply,
  parseIssueReply,
} from "./scripts";

const REQUEST_TIMEOUT_MS = 3_000;

/** Upstash Redis over its REST API (UPSTASH_REDIS_REST_URL / _TOKEN), the natural fit on Vercel. */
export class UpstashCodeStore implements CodeStore {
  private readonly redis: Redis;
  private readonly issueScript;
  private readonly consumeScript;

  constructor(url: string, token: string) {
    this.redis = new Redis({
      url,
      token,
      // Payloads are JSON strings that must come back as strings, not parsed objects.
      automaticDeserialization: false,
      retry: { retries: 1, backoff: () => 50 },
      signal: () => AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    // EVALSHA first, EVAL once when the server does not know the script yet.
    this.issueScript = this.redis.createScript<unknown>(ISSUE_CODE_SCRIPT);
    this.consumeScript = this.redis.createScript<unknown>(CONSUME_CODE_SCRIPT);
  }

  issueCode: CodeStore["issueCode"] = async (key, input) =>
    parseIssueReply(await this.call(() => this.issueScript.exec([key], issueArgs(input))));

  consumeCode: CodeStore["consumeCode"] = async (key, input) =>
    parseConsumeReply(await this.call(() => this.consumeScript.exec([key], consumeArgs(input))));

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
