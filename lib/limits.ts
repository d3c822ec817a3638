import { createHmac } from "node:crypto";
import type { CodePurpose } from "./codes";
import type { AppConfig } from "./config";
import type { LimitRule } from "./store/code-store";

/**
 * Which counters guard what, and their keys. Keys for one address share a Redis hash tag ({id}); a code
 * check's script also touches the client IP's counter (and an email change's record is the account's),
 * so the store must be one Redis (or Upstash), not a Redis Cluster.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** "Consecutive" failures: a window long enough that only a success or a reset clears it. */
const CONSECUTIVE_WINDOW = 365 * DAY;

type LimitConfig = Pick<AppConfig, "codes" | "limits">;

/** A keyed digest of the address: the store never holds addresses in the clear. */
export function emailId(hmacKey: Buffer, email: string): string {
  return createHmac("sha256", hmacKey).update(`email:${email}`).digest("base64url").slice(0, 32);
}

/**
 * Mail to one address: a cooldown per purpose (a code just sent for one purpose must not hold back another
 * purpose's), and an hourly and a daily cap shared by every purpose, so mail bombing stays bounded.
 */
export function sendLimits(config: LimitConfig, id: string, purpose: CodePurpose): LimitRule[] {
  return [
    { key: `limit:{${id}}:send:cooldown:${purpose}`, limit: 1, windowMs: config.codes.resendCooldownSeconds * 1000 },
    { key: `limit:{${id}}:send:hour`, limit: config.limits.sendsPerHour, windowMs: HOUR },
    { key: `limit:{${id}}:send:day`, limit: config.limits.sendsPerDay, windowMs: DAY },
  ];
}

/**
 * Wrong codes for one address, across codes: a new code does not reset them (NIST SP 800-63B §3.1.3.2);
 * and from one client IP across addresses, so that one client cannot spread its guesses over many.
 */
export function verifyFailureLimits(config: LimitConfig, id: string, ip: string): LimitRule[] {
  return [
    { key: `limit:{${id}}:verify-fail:hour`, limit: config.limits.verifyFailuresPerHour, windowMs: HOUR },
    { key: `limit:{${id}}:verify-fail:day`, limit: config.limits.verifyFailuresPerDay, windowMs: DAY },
    ipLimit(config, "code-fail", ip),
  ];
}

export function loginAccountLimits(config: LimitConfig, id: string) {
  return {
    window: { key: `limit:{${id}}:login-fail`, limit: config.limits.loginFailuresPerAccount, windowMs: config.limits.loginFailureWindowSeconds * 1000 },
    consecutive: { key: `limit:{${id}}:login-consecutive`, limit: config.limits.loginLockoutAfter, windowMs: CONSECUTIVE_WINDOW },
  } satisfies Record<string, LimitRule>;
}

export type IpAction = "register" | "resend" | "login-fail" | "code-fail";

export function ipLimit(config: LimitConfig, action: IpAction, ip: string): LimitRule {
  const { limits } = config;
  const [limit, windowMs] =
    action === "register"
      ? [limits.registerPerIpPerHour, HOUR]
      : action === "resend"
        ? [limits.resendPerIpPerHour, HOUR]
        : action === "code-fail"
          ? [limits.verifyFailuresPerIpPerHour, HOUR]
          : [limits.loginFailuresPerIp, limits.loginFailureWindowSeconds * 1000];
  return { key: `limit:ip:${ipKey(ip)}:${action}`, limit, windowMs };
}

/** IPv6 clients are grouped by /64 (one subscriber usually holds a whole /64); IPv4 by address. */
export function ipKey(ip: string): string {
  const address = ip.trim().toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
  if (!address.includes(":")) return address || "unknown";
  const [head, tail = ""] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(":")}::/64`;
}
