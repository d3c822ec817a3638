import "server-only";
import { logAuthEvent } from "../platform/log";
import type { ConsumeCodeOutcome } from "../store/code-store";

/** Result shapes shared by the services. */
export type RateLimited = { ok: false; reason: "rate_limited"; retryAfterSeconds: number };

/** Why a code was not accepted, as every service answers it. */
export type CodeRefusalReason = "wrong_code" | "expired" | "used" | "too_many_attempts";
export type CodeRefusal = { ok: false; reason: CodeRefusalReason };

/**
 * A refused code check's answer. No record ("missing") is told as a wrong code, so the answer does not tell
 * which addresses (or accounts) have a code waiting.
 */
export function codeRefusalReason(outcome: Exclude<ConsumeCodeOutcome, { status: "ok" } | { status: "rate_limited" }>): CodeRefusalReason {
  return outcome.status === "missing" ? "wrong_code" : outcome.status;
}

/** Who is asking: per-IP limits key on this. */
export interface RequestContext {
  ip: string;
}

export function rateLimited(retryAfterMs: number, limit: string): RateLimited {
  logAuthEvent("rate_limited", { limit });
  return { ok: false, reason: "rate_limited", retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
}
