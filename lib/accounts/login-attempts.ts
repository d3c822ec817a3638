import "server-only";
import type { Database } from "@/db/client";
import { NO_PASSWORD, type User } from "@/db/schema";
import { findUserByEmail } from "@/db/users";
import { ipLimits, loginAccountLimits, type LimitConfig } from "../codes/limits";
import { logAuthEvent } from "../platform/log";
import { burnPasswordCheck, verifyPassword } from "../credentials/passwords";
import { isDeactivated } from "./account-state";
import type { Registrations } from "./registrations";
import { rateLimited, type RateLimited, type RequestContext } from "./results";
import type { CodeStore } from "../store/code-store";

/**
 * The login limits and the password check within them, shared by every way in (password login, sign-in by
 * code, passkeys) and by the changes that ask for the password again (lib/accounts/account-settings.ts,
 * own-second-factor.ts, account-data.ts). Wired once by lib/platform/runtime.ts and handed to each service.
 */

export interface LoginAttemptsDependencies {
  db: Database;
  store: CodeStore;
  config: LimitConfig;
  /** The address's id in the store's keys (lib/codes/one-time-codes.ts idOf). */
  idOf: (email: string) => string;
  /** Whose pending signup chose this password (the hint to verify). */
  registrations: Pick<Registrations, "matchesPassword">;
}

export type PasswordCheckResult = { ok: true; user: User } | { ok: false; reason: "invalid_credentials" | "locked" | "unverified" } | RateLimited;

export function createLoginAttempts(deps: LoginAttemptsDependencies) {
  const { db, store, config, idOf, registrations } = deps;

  /**
   * Checks a password within the login limits (per account, consecutive, per IP). Every attempt is counted
   * on all three before any hash is checked, in one atomic step, so parallel guesses cannot slip past a
   * limit; a right password clears the account's counters and takes its own hit back from the IP's.
   * Unknown addresses, and accounts without a password, cost one hash verify too.
   */
  async function checkPassword(
    email: string,
    password: string,
    context: RequestContext,
    options: { keepFailures?: boolean } = {},
  ): Promise<PasswordCheckResult> {
    const account = loginAccountLimits(config, idOf(email));
    const ip = ipLimits(config, "login-fail", context.ip);
    // The account is read while the store answers: one wait instead of two (a network round trip saved on a
    // remote database). The price, taken knowingly: a refused attempt costs one indexed read as well.
    const [check, user] = await Promise.all([store.limits("hit", [account.window, account.consecutive, ...ip]), findUserByEmail(db, email)]);
    if (!check.allowed) return loginRefusal(check.retryAfterMs);
    if (user && !user.emailVerifiedAt) {
      // No password of its own until proven. Only a password chosen by one of its pending signups earns the
      // hint to verify; either way the attempt stays counted, so this cannot be polled without limit.
      const pendingSignup = await registrations.matchesPassword(email, password);
      if (!pendingSignup) await burnPasswordCheck(password);
      logAuthEvent("login_failed", { userId: user.id, reason: pendingSignup ? "unverified" : "wrong_password" });
      return { ok: false, reason: pendingSignup ? "unverified" : "invalid_credentials" };
    }
    const passwordOk =
      user && user.passwordHash !== NO_PASSWORD ? await verifyPassword(user.passwordHash, password) : (await burnPasswordCheck(password), false);
    // The unverified returned above: an account still not active here is a deactivated one.
    if (!user || !passwordOk || isDeactivated(user)) {
      logAuthEvent("login_failed", { userId: user?.id, reason: !user ? "unknown_email" : !passwordOk ? "wrong_password" : "deactivated" });
      return { ok: false, reason: "invalid_credentials" };
    }
    if (!options.keepFailures) await settleLogin(email, context);
    return { ok: true, user };
  }

  /** A login limit reached: only the consecutive-failure lock waits longer than a login window. */
  function loginRefusal(retryAfterMs: number): { ok: false; reason: "locked" } | RateLimited {
    if (retryAfterMs > config.limits.loginFailureWindowSeconds * 1000) {
      logAuthEvent("rate_limited", { limit: "login_locked" });
      return { ok: false, reason: "locked" };
    }
    return rateLimited(retryAfterMs, "login_failures");
  }

  /** A success (a right password, or a code proving the address) clears the account's login failures. */
  async function clearLoginFailures(email: string): Promise<void> {
    const account = loginAccountLimits(config, idOf(email));
    await store.limits("reset", [account.window, account.consecutive]);
  }

  /** A right password: the account's failures go, and the attempt no longer counts against the client's IP. */
  async function settleLogin(email: string, context: RequestContext): Promise<void> {
    const account = loginAccountLimits(config, idOf(email));
    await Promise.all([store.limits("reset", [account.window, account.consecutive]), store.limits("refund", ipLimits(config, "login-fail", context.ip))]);
  }

  return { checkPassword, loginRefusal, clearLoginFailures, settleLogin };
}

export type LoginAttempts = ReturnType<typeof createLoginAttempts>;
