import { randomUUID } from "node:crypto";
import type { Database } from "@/db/client";
import type { User } from "@/db/schema";
import { activateUser, findUserByEmail, insertInactiveCustomer } from "@/db/users";
import type { AppConfig } from "./config";
import { ipLimit, loginAccountLimits, verifyFailureLimits } from "./limits";
import { logAuthEvent } from "./log";
import type { Mailer } from "./mail/mailer";
import { createCodeMachinery, type Delivery } from "./one-time-codes";
import { passwordProblem } from "./password-policy";
import { burnPasswordCheck, hashPassword, verifyPassword } from "./passwords";
import { rateLimited, type RateLimited, type RequestContext } from "./results";
import type { LoginInput, RegisterInput, VerifyInput } from "./schemas";
import type { CodeStore } from "./store/code-store";
import { createSecondFactor, needsSecondFactor } from "./totp";

/**
 * The rules of signup, verification and login, in one place. Server actions, the JSON API and Auth.js's
 * authorize() only adapt these typed results. Expected outcomes are results; only outages throw
 * (StoreUnavailableError), which the adapters answer with 503: every limit fails closed.
 */

export interface AccountDependencies {
  db: Database;
  store: CodeStore;
  mailer: Mailer;
  config: Pick<AppConfig, "appName" | "codes" | "limits" | "totp">;
  now?: () => number;
  /** Work after the response (see lib/one-time-codes.ts); mail is sent inline without it. */
  defer?: (task: () => Promise<unknown>) => void;
}

export type { Delivery, RequestContext };

export type WeakPassword = { ok: false; reason: "weak_password"; message: string };

export type RegisterResult = { ok: true; email: string; delivery: Delivery } | WeakPassword | RateLimited;

export type VerifyResult =
  | { ok: true; user: User }
  | { ok: false; reason: "wrong_code" | "expired" | "used" | "too_many_attempts" }
  | RateLimited;

export type ResendResult = { ok: true; email: string; delivery: Delivery } | RateLimited;

export type AuthenticateResult =
  /** mfa: a second factor (lib/totp.ts) was proven in this login, as /admin requires. */
  | { ok: true; user: User; mfa: boolean }
  | { ok: false; reason: "invalid_credentials" | "unverified" | "locked" | "totp_required" }
  | RateLimited;

interface PendingDetails {
  name: string;
  passwordHash: string;
}


export function createAccounts(deps: AccountDependencies) {
  const { db, store, mailer, config } = deps;
  const now = deps.now ?? Date.now;
  const codes = createCodeMachinery({ store, mailer, config, now, defer: deps.defer });
  const { idOf } = codes;
  const secondFactor = createSecondFactor({ db, config, now });

  /** Issues a verification code (the previous one stays valid beside it) within the send limits, and mails it. */
  function sendVerificationCode(email: string, pending: PendingDetails | undefined) {
    return codes.issue({
      purpose: "verify_email",
      keyEmail: email,
      payload: pending ? JSON.stringify(pending) : "",
      signedUpAgain: Boolean(pending),
    });
  }

  async function register(input: RegisterInput, context: RequestContext): Promise<RegisterResult> {
    const ipCheck = await store.limits("hit", [ipLimit(config, "register", context.ip)]);
    if (!ipCheck.allowed) return rateLimited(ipCheck.retryAfterMs, "register_ip");
    const weak = passwordProblem(input.password, { appName: config.appName, name: input.name, email: input.email });
    if (weak) return { ok: false, reason: "weak_password", message: weak };

    // Every branch below costs one hash, one insert attempt, one store write and at most one mail, and
    // answers alike, so neither the answer nor its timing tells whether the address has an account.
    const passwordHash = await hashPassword(input.password);
    const created = await insertInactiveCustomer(db, { id: randomUUID(), email: input.email, name: input.name, passwordHash });
    let delivery: Delivery = "sent";
    if (created) {
      logAuthEvent("registered", { userId: created.id });
      const sent = await sendVerificationCode(input.email, undefined);
      if (sent.status === "failed") delivery = "failed";
    } else {
      const existing = await findUserByEmail(db, input.email);
      logAuthEvent("register_existing", { userId: existing?.id, verified: Boolean(existing?.emailVerifiedAt) });
      if (existing && !existing.emailVerifiedAt) {
        // Not proven yet: the new details wait beside the code and apply only when it is proven.
        const sent = await sendVerificationCode(input.email, { name: input.name, passwordHash });
        if (sent.status === "failed") delivery = "failed";
      } else if (existing) {
        // Proven: nothing changes; the owner is told instead of being sent a code.
        if ((await codes.notifyWithinLimits("existing_account", input.email)) === "failed") delivery = "failed";
      }
    }
    return { ok: true, email: input.email, delivery };
  }

  async function verifyEmail(input: VerifyInput, context: RequestContext): Promise<VerifyResult> {
    const limits = verifyFailureLimits(config, idOf(input.email), context.ip);
    const outcome = await codes.consume("verify_email", { keyEmail: input.email }, input.otp, limits);
    switch (outcome.status) {
      case "ok": {
        const pending = outcome.payload ? (JSON.parse(outcome.payload) as PendingDetails) : undefined;
        const user = await activateUser(db, input.email, pending, new Date(now()));
        if (!user) return { ok: false, reason: "used" };
        logAuthEvent("verified", { userId: user.id });
        return { ok: true, user };
      }
      case "rate_limited":
        return rateLimited(outcome.retryAfterMs, "verify_failures");
      // No record looks like a wrong code, so this answer does not tell which addresses have signed up.
      case "missing":
      case "wrong_code":
        logAuthEvent("verify_failed", { reason: "wrong_code" });
        return { ok: false, reason: "wrong_code" };
      default:
        logAuthEvent("verify_failed", { reason: outcome.status });
        return { ok: false, reason: outcome.status };
    }
  }

  async function resendCode(email: string, context: RequestContext): Promise<ResendResult> {
    const ipCheck = await store.limits("hit", [ipLimit(config, "resend", context.ip)]);
    if (!ipCheck.allowed) return rateLimited(ipCheck.retryAfterMs, "resend_ip");
    const user = await findUserByEmail(db, email);
    if (!user || user.emailVerifiedAt) {
      // Spend the same send budget as a real resend, so the limits answer alike for every address.
      const allowed = await codes.spendSendBudget(email);
      if (!allowed.allowed) return rateLimited(allowed.retryAfterMs, "send");
      return { ok: true, email, delivery: "sent" };
    }
    // Mailed after the response: the answer and its timing must not tell an unverified account from none.
    const sent = await codes.issue({ purpose: "verify_email", keyEmail: email, inBackground: true });
    if (sent.status === "limited") return rateLimited(sent.retryAfterMs, "send");
    return { ok: true, email, delivery: sent.status };
  }

  /**
   * Checks a password within the login limits (per account, consecutive, per IP): failures are counted,
   * a right password clears the account's counters. Unknown addresses cost one hash verify too.
   */
  async function checkPassword(
    email: string,
    password: string,
    context: RequestContext,
    options: { keepFailures?: boolean } = {},
  ): Promise<{ ok: true; user: User } | { ok: false; reason: "invalid_credentials" | "locked" } | RateLimited> {
    const account = loginAccountLimits(config, idOf(email));
    const ip = ipLimit(config, "login-fail", context.ip);
    // The account's attempts are counted before the password is checked, atomically, so parallel guesses
    // cannot slip past its limit; a success clears them again. The per-IP budget counts failures only.
    // The account is read while the store answers: one wait instead of two (a network round trip saved on a
    // remote database). The price, taken knowingly: a refused attempt costs one indexed read as well.
    const [accountCheck, ipCheck, user] = await Promise.all([
      store.limits("hit", [account.window, account.consecutive]),
      store.limits("check", [ip]),
      findUserByEmail(db, email),
    ]);
    if (!accountCheck.allowed) return loginRefusal(accountCheck.retryAfterMs);
    if (!ipCheck.allowed) return loginRefusal(ipCheck.retryAfterMs);
    const passwordOk = user ? await verifyPassword(user.passwordHash, password) : (await burnPasswordCheck(password), false);
    if (!user || !passwordOk || (user.emailVerifiedAt && !user.isActive)) {
      await store.limits("record", [ip]);
      logAuthEvent("login_failed", { userId: user?.id, reason: !user ? "unknown_email" : !passwordOk ? "wrong_password" : "deactivated" });
      return { ok: false, reason: "invalid_credentials" };
    }
    if (!options.keepFailures) await clearLoginFailures(email);
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

  async function authenticate(input: LoginInput, context: RequestContext): Promise<AuthenticateResult> {
    // Failures are cleared below, only once every factor the account has is proven.
    const checked = await checkPassword(input.email, input.password, context, { keepFailures: true });
    if (!checked.ok) return checked;
    const { user } = checked;
    // Only someone who knows the password learns the account is unverified.
    if (!user.emailVerifiedAt) {
      await clearLoginFailures(input.email);
      logAuthEvent("login_inactive", { userId: user.id });
      return { ok: false, reason: "unverified" };
    }
    // ---- Second factor for staff and admin (issue 6; lib/totp.ts). Every password login passes here,
    // so a reset (which never signs staff in) cannot bypass it. A wrong code counts as a failed login.
    let mfa = false;
    if (needsSecondFactor(user.role) && (await secondFactor.isEnabled(user.id))) {
      if (!input.totp) {
        logAuthEvent("login_second_factor_required", { userId: user.id });
        return { ok: false, reason: "totp_required" };
      }
      const second = await secondFactor.verify(user.id, input.totp);
      if (!second.ok) {
        // Already counted on the account by checkPassword (not cleared, since the login failed); the
        // per-IP budget counts failures, so this one too.
        await store.limits("record", [ipLimit(config, "login-fail", context.ip)]);
        logAuthEvent("login_failed", { userId: user.id, reason: "wrong_second_factor" });
        return { ok: false, reason: "invalid_credentials" };
      }
      mfa = true;
      logAuthEvent("login_ok", { userId: user.id, method: second.method });
    } else {
      logAuthEvent("login_ok", { userId: user.id });
    }
    // ---- end second factor
    // Clearing the counters can only loosen them, so it waits until after the response.
    if (deps.defer) deps.defer(() => clearLoginFailures(input.email));
    else await clearLoginFailures(input.email);
    return { ok: true, user, mfa };
  }

  return { register, verifyEmail, resendCode, authenticate, checkPassword, clearLoginFailures, loginRefusal, codes };
}

export type Accounts = ReturnType<typeof createAccounts>;
