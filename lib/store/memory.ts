import "server-only";
import { timingSafeEqual } from "node:crypto";
import { DELIVERY_QUEUE_CAP } from "./scripts";
import type { ClaimDeliveryOutcome, CodeStore, ConsumeCodeOutcome, SettleDeliveryInput, IssueCodeOutcome, LimitOutcome, LimitRule } from "./code-store";

interface CodeRecord {
  h1?: string;
  e1: number;
  h2?: string;
  e2: number;
  p1: string;
  p2: string;
  attempts: number;
  first: number;
  state: "live" | "used" | "void";
  deleteAt: number;
}

interface Counter {
  count: number;
  resetAt: number;
}

/**
 * In-process store for local development: the same state machine as lib/store/scripts.ts. Each method
 * runs without an await in between, which makes it as atomic as the Lua scripts within one process.
 */
export class MemoryCodeStore implements CodeStore {
  private readonly records = new Map<string, CodeRecord>();
  private readonly counters = new Map<string, Counter>();
  private readonly values = new Map<string, { value: string; expiresAt: number }>();
  private readonly deliveries = new Map<string, { dueAt: number; deadline: number; attempts: number; body: string }>();
  private pace = 0;

  async issueCode(key: string, input: Parameters<CodeStore["issueCode"]>[1]): Promise<IssueCodeOutcome> {
    const { now } = input;
    const retry = this.over(input.sendLimits, now);
    if (retry > 0) return { status: "limited", retryAfterMs: retry };
    this.count(input.sendLimits, now);
    const prev = this.record(key, now);
    const live1 = prev?.state === "live" && prev.h1 !== undefined && prev.e1 > now;
    const live = live1 || (prev?.state === "live" && prev.h2 !== undefined && prev.e2 > now);
    let first = live && prev ? prev.first : now;
    let expires = Math.min(now + input.ttlMs, first + input.maxLifetimeMs);
    let keepPrevious = live1;
    if (expires <= now) {
      first = now;
      expires = now + input.ttlMs;
      keepPrevious = false;
    }
    this.sweep(now);
    this.records.set(key, {
      h1: input.codeHash,
      e1: expires,
      p1: input.payload,
      h2: keepPrevious ? prev!.h1 : undefined,
      e2: keepPrevious ? prev!.e1 : 0,
      p2: keepPrevious ? prev!.p1 : "",
      attempts: 0,
      first,
      state: "live",
      deleteAt: expires + input.retentionMs,
    });
    return { status: "issued", expiresAt: expires };
  }

  async consumeCode(key: string, input: Parameters<CodeStore["consumeCode"]>[1]): Promise<ConsumeCodeOutcome> {
    const { now } = input;
    const retry = this.over(input.failureLimits, now);
    if (retry > 0) return { status: "rate_limited", retryAfterMs: retry };
    const record = this.record(key, now);
    if (!record) {
      this.count(input.failureLimits, now);
      return { status: "missing" };
    }
    // "Used" and "expired" are told only to the code they are about (as the Lua script does).
    const ours = () => [record.h1, record.h2].some((hash) => hash !== undefined && sameDigest(hash, input.codeHash));
    if (record.state === "used") {
      if (ours()) return { status: "used" };
      this.count(input.failureLimits, now);
      return { status: "missing" };
    }
    if (record.state === "void") return { status: "too_many_attempts" };
    const live1 = record.h1 !== undefined && record.e1 > now;
    const live2 = record.h2 !== undefined && record.e2 > now;
    if (!live1 && !live2) {
      if (ours()) return { status: "expired" };
      this.count(input.failureLimits, now);
      return { status: "missing" };
    }
    const payload = live1 && sameDigest(record.h1!, input.codeHash) ? record.p1 : live2 && sameDigest(record.h2!, input.codeHash) ? record.p2 : undefined;
    if (payload !== undefined) {
      // The hashes stay (so the record's own codes still hear "used"); the pending details go.
      Object.assign(record, { state: "used", p1: "", p2: "" });
      return { status: "ok", payload };
    }
    this.count(input.failureLimits, now);
    record.attempts += 1;
    if (record.attempts >= input.maxAttempts) {
      Object.assign(record, { state: "void", h1: undefined, h2: undefined, p1: "", p2: "" });
      return { status: "too_many_attempts" };
    }
    return { status: "wrong_code" };
  }

  async limits(mode: Parameters<CodeStore["limits"]>[0], rules: LimitRule[]): Promise<LimitOutcome> {
    const now = Date.now();
    if (mode === "reset") {
      for (const rule of rules) this.counters.delete(rule.key);
      return { allowed: true };
    }
    if (mode === "record") {
      this.count(rules, now);
      return { allowed: true };
    }
    if (mode === "refund") {
      for (const rule of rules) {
        const counter = this.counter(rule.key, now);
        if (counter && counter.count > 0) counter.count -= 1;
      }
      return { allowed: true };
    }
    const retry = this.over(rules, now);
    if (retry > 0) return { allowed: false, retryAfterMs: retry };
    if (mode === "hit") this.count(rules, now);
    return { allowed: true };
  }

  async readValues(keys: string[]): Promise<Array<string | null>> {
    const now = Date.now();
    return keys.map((key) => {
      const entry = this.values.get(key);
      return entry && entry.expiresAt > now ? entry.value : null;
    });
  }

  async forget(keys: string[]): Promise<void> {
    for (const key of keys) {
      this.records.delete(key);
      this.counters.delete(key);
      this.values.delete(key);
    }
  }

  async writeValue(key: string, value: string, ttlMs: number): Promise<void> {
    this.values.set(key, { value, expiresAt: Date.now() + ttlMs });
  }

  async takeValue(key: string): Promise<string | null> {
    const entry = this.values.get(key);
    this.values.delete(key);
    return entry && entry.expiresAt > Date.now() ? entry.value : null;
  }

  async raiseValue(key: string, value: number, ttlMs: number): Promise<number> {
    const now = Date.now();
    const entry = this.values.get(key);
    const held = entry && entry.expiresAt > now ? Number(entry.value) : undefined;
    if (held !== undefined && held > value) return held;
    this.values.set(key, { value: String(value), expiresAt: now + ttlMs });
    return value;
  }

  async ping(): Promise<void> {}

  async enqueueDelivery(job: { id: string; body: string; dueAt: number; deadline: number }): Promise<boolean> {
    if (this.deliveries.size >= DELIVERY_QUEUE_CAP) return false;
    this.deliveries.set(job.id, { dueAt: job.dueAt, deadline: Math.ceil(job.deadline), attempts: 0, body: job.body });
    return true;
  }

  async claimDelivery({ now, leaseMs, intervalMs }: { now: number; leaseMs: number; intervalMs: number }): Promise<ClaimDeliveryOutcome> {
    for (;;) {
      // Ordered as the sorted set orders: by due time, then by id.
      let head: [string, { dueAt: number; deadline: number; attempts: number; body: string }] | undefined;
      for (const entry of this.deliveries) {
        if (!head || entry[1].dueAt < head[1].dueAt || (entry[1].dueAt === head[1].dueAt && entry[0] < head[0])) head = entry;
      }
      if (!head) return { status: "empty" };
      const [id, job] = head;
      if (job.deadline <= now) {
        this.deliveries.delete(id);
        return { status: "expired", job: { id, attempts: job.attempts, body: job.body } };
      }
      if (job.dueAt > now) return { status: "wait", waitMs: Math.ceil(job.dueAt - now) };
      if (this.pace > now) return { status: "wait", waitMs: Math.ceil(this.pace - now) };
      job.attempts += 1;
      job.dueAt = now + leaseMs;
      if (intervalMs > 0) this.pace = now + Math.ceil(intervalMs);
      return { status: "job", job: { id, attempts: job.attempts, body: job.body } };
    }
  }

  async settleDelivery(input: SettleDeliveryInput): Promise<void> {
    if (input.done) {
      this.deliveries.delete(input.id);
      return;
    }
    const job = this.deliveries.get(input.id);
    if (job) job.dueAt = input.retryAt;
    if (input.pauseUntil && input.pauseUntil > this.pace) this.pace = Math.ceil(input.pauseUntil);
  }

  private record(key: string, now: number): CodeRecord | undefined {
    const record = this.records.get(key);
    if (record && record.deleteAt <= now) {
      this.records.delete(key);
      return undefined;
    }
    return record;
  }

  private counter(key: string, now: number): Counter | undefined {
    const counter = this.counters.get(key);
    if (counter && counter.resetAt <= now) {
      this.counters.delete(key);
      return undefined;
    }
    return counter;
  }

  private over(rules: LimitRule[], now: number): number {
    let retry = 0;
    for (const rule of rules) {
      const counter = this.counter(rule.key, now);
      if (counter && counter.count >= rule.limit) retry = Math.max(retry, counter.resetAt - now);
    }
    return retry;
  }

  private count(rules: LimitRule[], now: number): void {
    for (const rule of rules) {
      const counter = this.counter(rule.key, now);
      if (counter) counter.count += 1;
      else this.counters.set(rule.key, { count: 1, resetAt: now + rule.windowMs });
    }
  }

  private sweep(now: number): void {
    if (this.records.size < 1_000) return;
    for (const [key, record] of this.records) if (record.deleteAt <= now) this.records.delete(key);
    for (const [key, counter] of this.counters) if (counter.resetAt <= now) this.counters.delete(key);
    for (const [key, entry] of this.values) if (entry.expiresAt <= now) this.values.delete(key);
  }
}

function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
