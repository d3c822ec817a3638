/**
 * The code store port: where one-time codes live (Redis in production). Each record holds only a keyed
 * hash of the code, an attempt counter and, for re-registrations, the pending account details that take
 * effect when the code is proven. Records outlive their code by a retention period so that "expired" and
 * "already used" can be told apart from "wrong".
 */

export interface IssueCodeInput {
  codeHash: string;
  /** Pending details applied on success. Empty: keep the pending details of the code being replaced. */
  payload: string;
  now: number;
  ttlMs: number;
  cooldownMs: number;
  retentionMs: number;
}

export type IssueCodeOutcome =
  | { status: "issued" }
  /** A code was issued too recently; the current one stays (its payload is updated when one was given). */
  | { status: "cooldown"; retryAfterMs: number };

export interface ConsumeCodeInput {
  codeHash: string;
  now: number;
  maxAttempts: number;
}

export type ConsumeCodeOutcome =
  | { status: "ok"; payload: string }
  | { status: "wrong_code"; attemptsLeft: number }
  | { status: "too_many_attempts" }
  | { status: "expired" }
  | { status: "used" }
  | { status: "missing" };

export interface CodeStore {
  /** Replaces the code under `key` (one round trip). */
  issueCode(key: string, input: IssueCodeInput): Promise<IssueCodeOutcome>;
  /** Checks a code and, when right, consumes it: atomic, one round trip, works once even under races. */
  consumeCode(key: string, input: ConsumeCodeInput): Promise<ConsumeCodeOutcome>;
  ping(): Promise<void>;
}

/** Thrown by adapters when the store cannot be reached; adapters above turn it into a 503. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super("The code store is unreachable", { cause });
    this.name = "StoreUnavailableError";
  }
}
