import "server-only";
/**
 * The code store port: where one-time codes and rate-limit counters live (Redis in production).
 *
 * A code record holds only keyed hashes of the current code and of the one before it (so a slow email
 * does not punish the person), one attempt counter shared by both, and pending details that take
 * effect only when that very code is proven (a re-registration's name and hash, an email change's new
 * address: sealed by the service, opaque here). Records outlive their codes by a retention period so
 * "expired" and "already used" can be told apart from "wrong".
 *
 * Limits are fixed windows: a counter per key that expires windowMs after its first hit.
 */

export interface LimitRule {
  key: string;
  limit: number;
  windowMs: number;
}

export type LimitOutcome = { allowed: true } | { allowed: false; retryAfterMs: number };

export type LimitMode =
  /** Allowed when every counter is under its limit; then counts one on each (atomic). */
  | "hit"
  /** Read-only: allowed when every counter is under its limit. */
  | "check"
  /** Counts one on each, whatever the counts are. */
  | "record"
  /** Clears the counters. */
  | "reset"
  /** Takes back one hit from each counter that has any (never below zero). */
  | "refund";

export interface IssueCodeInput {
  codeHash: string;
  /** Pending details applied when this code (and no other) is proven; empty for none. */
  payload: string;
  now: number;
  ttlMs: number;
  /** No code of a series (codes issued while an earlier one was still live) lives past its first issue + this. */
  maxLifetimeMs: number;
  retentionMs: number;
  /** Sending limits checked and counted in the same round trip (cooldown, per hour, per day). */
  sendLimits: LimitRule[];
}

export type IssueCodeOutcome =
  | { status: "issued"; expiresAt: number }
  /** A send limit is reached: nothing changes. */
  | { status: "limited"; retryAfterMs: number };

export interface ConsumeCodeInput {
  codeHash: string;
  now: number;
  maxAttempts: number;
  /** Failure budgets across codes (NIST: a new code does not reset them); a wrong code counts on each. */
  failureLimits: LimitRule[];
}

export type ConsumeCodeOutcome =
  | { status: "ok"; payload: string }
  | { status: "wrong_code" }
  | { status: "too_many_attempts" }
  | { status: "expired" }
  | { status: "used" }
  | { status: "missing" }
  | { status: "rate_limited"; retryAfterMs: number };

/** One message waiting in the delivery queue (lib/mail/delivery-queue.ts): its body is sealed by the queue, opaque here. */
export interface DeliveryJob {
  id: string;
  body: string;
  /** Claims so far, this one included. */
  attempts: number;
}

export type ClaimDeliveryOutcome =
  /** Leased to the caller until now + leaseMs; unsettled by then, it is handed out again. */
  | { status: "job"; job: DeliveryJob }
  /** Its deadline passed before it could go: removed. */
  | { status: "expired"; job: DeliveryJob }
  /** Nothing may go before waitMs (the pace, a pause the provider asked for, or the next retry). */
  | { status: "wait"; waitMs: number }
  | { status: "empty" };

export type SettleDeliveryInput =
  | { id: string; done: true }
  /** Back in the queue at retryAt; pauseUntil holds every job back (the provider's retry-after). */
  | { id: string; done: false; retryAt: number; pauseUntil?: number };

export interface CodeStore {
  /** Issues a code (the previous live one stays valid beside it), within the send limits: one round trip. */
  issueCode(key: string, input: IssueCodeInput): Promise<IssueCodeOutcome>;
  /** Checks a code and, when right, consumes it: atomic, one round trip, works once even under races. */
  consumeCode(key: string, input: ConsumeCodeInput): Promise<ConsumeCodeOutcome>;
  /** Rate-limit counters (see LimitMode), all rules in one round trip. */
  limits(mode: LimitMode, rules: LimitRule[]): Promise<LimitOutcome>;
  /** Plain values with an expiry (session deny-list, cached session versions): one round trip each. */
  readValues(keys: string[]): Promise<Array<string | null>>;
  writeValue(key: string, value: string, ttlMs: number): Promise<void>;
  /** Reads a plain value and deletes it in the same atomic step (one-use values): null when absent or expired. */
  takeValue(key: string): Promise<string | null>;
  /**
   * A cached number that must never go back (a user's session state): stores `value` with the ttl unless the
   * key holds a higher number, which is kept with its own expiry. Atomic; answers the number the key holds after.
   */
  raiseValue(key: string, value: number, ttlMs: number): Promise<number>;
  /** Removes whatever the keys hold (code records, values): an account's deletion. One round trip. */
  forget(keys: string[]): Promise<void>;
  ping(): Promise<void>;
  /**
   * The delivery queue, shared by every instance: jobs in order of when they are due, handed out no faster than
   * one per intervalMs across all instances. Enqueue answers false when the queue is full.
   */
  enqueueDelivery(job: { id: string; body: string; dueAt: number; deadline: number }): Promise<boolean>;
  claimDelivery(input: { now: number; leaseMs: number; intervalMs: number }): Promise<ClaimDeliveryOutcome>;
  settleDelivery(input: SettleDeliveryInput): Promise<void>;
}

/** Thrown by adapters when the store cannot be reached; adapters above turn it into a 503 (fail closed). */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super("The code store is unreachable", { cause });
    this.name = "StoreUnavailableError";
  }
}
