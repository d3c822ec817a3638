import { timingSafeEqual } from "node:crypto";
import type { CodeStore, ConsumeCodeInput, ConsumeCodeOutcome, IssueCodeInput, IssueCodeOutcome } from "./code-store";

interface CodeRecord {
  codeHash: string;
  payload: string;
  attempts: number;
  expiresAt: number;
  issuedAt: number;
  state: "live" | "used" | "void";
  deleteAt: number;
}

/**
 * In-process store for local development, the same state machine as lib/store/scripts.ts. Each method
 * runs synchronously between awaits, which makes it as atomic as the Lua scripts within one process.
 */
export class MemoryCodeStore implements CodeStore {
  private readonly records = new Map<string, CodeRecord>();

  async issueCode(key: string, input: IssueCodeInput): Promise<IssueCodeOutcome> {
    const prev = this.read(key, input.now);
    let payload = input.payload;
    if (prev) {
      const wait = prev.issuedAt + input.cooldownMs - input.now;
      if (wait > 0) {
        if (payload !== "" && prev.state === "live") prev.payload = payload;
        return { status: "cooldown", retryAfterMs: wait };
      }
      if (payload === "" && prev.state === "live") payload = prev.payload;
    }
    this.sweep(input.now);
    this.records.set(key, {
      codeHash: input.codeHash,
      payload,
      attempts: 0,
      expiresAt: input.now + input.ttlMs,
      issuedAt: input.now,
      state: "live",
      deleteAt: input.now + input.ttlMs + input.retentionMs,
    });
    return { status: "issued" };
  }

  async consumeCode(key: string, input: ConsumeCodeInput): Promise<ConsumeCodeOutcome> {
    const record = this.read(key, input.now);
    if (!record) return { status: "missing" };
    if (record.state === "used") return { status: "used" };
    if (record.state === "void") return { status: "too_many_attempts" };
    if (record.expiresAt <= input.now) return { status: "expired" };
    if (sameDigest(record.codeHash, input.codeHash)) {
      const payload = record.payload;
      Object.assign(record, { state: "used", codeHash: "", payload: "" });
      return { status: "ok", payload };
    }
    record.attempts += 1;
    const attemptsLeft = input.maxAttempts - record.attempts;
    if (attemptsLeft <= 0) {
      Object.assign(record, { state: "void", codeHash: "", payload: "" });
      return { status: "too_many_attempts" };
    }
    return { status: "wrong_code", attemptsLeft };
  }

  async ping(): Promise<void> {}

  private read(key: string, now: number): CodeRecord | undefined {
    const record = this.records.get(key);
    if (record && record.deleteAt <= now) {
      this.records.delete(key);
      return undefined;
    }
    return record;
  }

  private sweep(now: number): void {
    for (const [key, record] of this.records) if (record.deleteAt <= now) this.records.delete(key);
  }
}

function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
