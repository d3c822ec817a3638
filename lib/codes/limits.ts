import "server-only";
import { createHmac } from "node:crypto";
import type { CodePurpose } from "./codes";
import type { AppConfig } from "../platform/config";
import { ipv6Groups, plainAddress } from "./ip-address";
import type { LimitRule } from "../store/code-store";

/**
 * Which counters guard what, and their keys. Keys for one address share a Redis hash tag ({id}); the client
 * IP's counters, the product-wide guessing counter and an account's records hash elsewhere, so on a Redis
 * Cluster the store splits an operation's limits per slot (lib/store/slots.ts).
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** "Consecutive" failures: a window long enough that only a success or a reset clears it. */
const CONSECUTIVE_WINDOW = 365 * DAY;

export type LimitConfig = Pick<AppConfig, "codes" | "limits">;

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
    ...ipLimits(config, "code-fail", ip),
  ];
}

/**
 * Every wrong code, whatever the address or client, on one counter: the product-wide signal that
 * lib/codes/guessing-alarm.ts watches. Never refuses anything itself.
 */
export const CODE_FAILURES_ALL = { key: "limit:all:code-fail", windowMs: HOUR };

export function allCodeFailuresRule(): LimitRule {
  return { ...CODE_FAILURES_ALL, limit: Number.MAX_SAFE_INTEGER };
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

/**
 * The per-IP rule and, for an IPv6 client, the failure rules of its /56 and /48 as well: a subscriber
 * often holds a /56 or a /48, which is 256 or 65,536 /64s. IPv4 clients have the one rule.
 */
export function ipLimits(config: LimitConfig, action: "code-fail" | "login-fail", ip: string): LimitRule[] {
  const first = ipLimit(config, action, ip);
  if (!first.key.endsWith(`::/64:${action}`)) return [first];
  const { limits } = config;
  const [limit56, limit48] =
    action === "code-fail"
      ? [limits.verifyFailuresPerIpv6_56PerHour, limits.verifyFailuresPerIpv6_48PerHour]
      : [limits.loginFailuresPerIpv6_56, limits.loginFailuresPerIpv6_48];
  return [
    first,
    { key: `limit:ip:${ipKey(ip, 56)}:${action}`, limit: limit56, windowMs: first.windowMs },
    { key: `limit:ip:${ipKey(ip, 48)}:${action}`, limit: limit48, windowMs: first.windowMs },
  ];
}

/** IPv6 clients are grouped by /64 (one subscriber usually holds a whole /64) or a shorter prefix; IPv4 by address. */
export function ipKey(ip: string, prefix: 64 | 56 | 48 = 64): string {
  const address = plainAddress(ip);
  if (!address.includes(":")) return address || "unknown";
  const kept = ipv6Groups(address).slice(0, 4);
  // A /56 keeps the high byte of the fourth group; a /48 drops it.
  kept[3] = prefix === 64 ? (kept[3] ?? 0) : prefix === 56 ? (kept[3] ?? 0) & 0xff00 : 0;
  return `${kept
    .slice(0, prefix === 48 ? 3 : 4)
    .map((g) => g.toString(16))
    .join(":")}::/${prefix}`;
}
