import "server-only";
import { logAuthEvent } from "../platform/log";

/** Result shapes shared by the services. */
export type RateLimited = { ok: false; reason: "rate_limited"; retryAfterSeconds: number };

/** Who is asking: per-IP limits key on this. */
export interface RequestContext {
  ip: string;
}

export function rateLimited(retryAfterMs: number, limit: string): RateLimited {
  logAuthEvent("rate_limited", { limit });
  return { ok: false, reason: "rate_limited", retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
}
