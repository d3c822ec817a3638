import "server-only";
import { randomUUID } from "node:crypto";
import type { Database } from "@/db/client";
import type { User } from "@/db/schema";
import { NO_PASSWORD } from "@/db/schema";
import { activateUser, findUserByEmail, insertInactiveCustomer, markCodeRequested } from "@/db/users";
import type { CodePurpose } from "../codes/codes";
import type { AppConfig } from "../platform/config";
import { createGuessingAlarm } from "../codes/guessing-alarm";
import { ipLimit, ipLimits, loginAccountLimits, verifyFailureLimits } from "../codes/limits";
import { logAuthEvent } from "../platform/log";
import type { DeliveryQueue, DeliveryState } from "../mail/delivery-queue";
import type { Mailer } from "../mail/mailer";
import { createCodeMachinery, type Delivery } from "../codes/one-time-codes";
import { passwordProblem } from "../credentials/password-policy";
import { burnPasswordCheck, hashPassword, verifyPassword } from "../credentials/passwords";
import { createRegistrations, newRegistrationToken } from "./registrations";
import { rateLimited, type RateLimited, type RequestContext } from "./results";
import { createSecondFactorNotice } from "./second-factor-notice";
import type { LoginInput, RegisterInput, VerifyInput } from "../schemas";
import type { CodeStore } from "../store/code-store";
import { createSecondFactor } from "../credentials/totp";

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
  /** Work after the response (see lib/codes/one-time-codes.ts); mail is sent inline without it. */
  defer?: (task: () => Promise<unknown>) => void;
  /** How a code check waits while the guessing alarm is on (lib/codes/guessing-alarm.ts); a real timer without it. */
  sleep?: (ms: number) => Promise<void>;
  /** The delivery queue (lib/mail/delivery-queue.ts); without it mail is sent inline. */
  deliveries?: DeliveryQueue;
}

export type { Delivery, RequestContext };

export type WeakPassword = { ok: false; reason: "weak_password"; message: string };

/** How the code a request asked for went: "wait" when a send limit held it back (retryAfterSeconds says how long). */
export type SendReport = { delivery: Delivery } | { delivery: "wait"; retryAfterSeconds: number };

export type RegisterResult =
  /** registration: what this signup's own client shows when it verifies (lib/accounts/registrations.ts). */
  | ({ ok: true; email: string; registration: string } & SendReport)
  | WeakPassword
  | RateLimited;

export type VerifyResult =
  /** signIn: whoever proved the address chose the password just now; the adapters sign them in with it. */
  | { ok: true; user: User; signIn: boolean }
  /** choose_password: the code did not come from this signup's own client, so its details cannot apply. */
  | { ok: false; reason: "wrong_code" | "expired" | "used" | "too_many_attempts" | "choose_password" }
  | WeakPassword
  | RateLimited;

export type ResendResult = { ok: true; email: string; delivery: Delivery } | RateLimited;

export type AuthenticateResult =
  /** mfa: a second factor (lib/credentials/totp.ts) was proven in this login, as /admin requires. */
  | { ok: true; user: User; mfa: boolean }
  | { ok: false; reason: "invalid_credentials" | "unverified" | "locked" | "totp_required" }
  | RateLimited;

export function sendReport(sent: { status: Delivery } | { status: "limited"; retryAfterMs: number }): SendReport {
  if (sent.status === "limited") return { delivery: "wait", retryAfterSeconds: Math.max(1, Math.ceil(sent.retryAfterMs / 1000)) };
  return { delivery: sent.status };
}

export function createAccounts(deps: AccountDependencies) {
  const { db, store, mailer, config } = deps;
  const now = deps.now ?? Date.now;
  const alarm = createGuessingAlarm({ store, config, now, sleep: deps.sleep });
  const codes = createCodeMachinery({ store, mailer, config, now, defer: deps.defer, alarm, deliveries: deps.deliveries });
  const secondFactorNotice = createSecondFactorNotice({ store, config, codes });
  const afterResponse = async (task: () => Promise<unknown>) => void (deps.defer ? deps.defer(task) : await task());
  const registrations = createRegistrations({ store, config, now });
  const { idOf } = codes;
  const secondFactor = createSecondFactor({ db, config, now });

  async function register(input: RegisterInput, context: RequestContext): Promise<RegisterResult> {
    const ipCheck = await store.limits("hit", [ipLimit(config, "register", context.ip)]);
    if (!ipCheck.allowed) return rateLimited(ipCheck.retryAfterMs, "register_ip");
    const weak = passwordProblem(input.password, { appName: config.appName, name: input.name, email: input.email });
    if (weak) return { ok: false, reason: "weak_password", message: weak };

    // Every branch below costs one hash, one insert attempt, one store write and at most one mail, and
    // answers alike (a registration token included), so neither the answer nor its timing tells whether
    // the address has an account.
    const passwordHash = await hashPassword(input.password);
    const created = await insertInactiveCustomer(db, { id: randomUUID(), email: input.email });
    const existing = created ?? (await findUserByEmail(db, input.email));
    logAuthEvent(created ? "registered" : "register_existing", { userId: existing?.id, verified: Boolean(existing?.emailVerifiedAt) });
    if (existing && !existing.emailVerifiedAt) {
      // Not proven: the details wait beside this signup, for its own client only; the code proves the inbox.
      const registration = await registrations.add(input.email, { name: input.name, passwordHash });
      if (!created) await markCodeRequested(db, existing.id, new Date(now()));
      const sent = await codes.issue({ purpose: "verify_email", keyEmail: input.email, occasion: "signup" });
      return { ok: true, email: input.email, registration, ...sendReport(sent) };
    }
    // Proven (or gone in between): nothing changes; the owner is told instead of being sent a code.
    // A decoy verification record beside the notice: wrong codes for this address then run out and expire
    // exactly as they do where a signup is pending.
    const sent = await codes.issue({ purpose: "verify_email", keyEmail: input.email, decoy: { notice: "existing_account" } });
    return { ok: true, email: input.email, registration: newRegistrationToken(), ...sendReport(sent) };
  }

  async function verifyEmail(input: VerifyInput, context: RequestContext): Promise<VerifyResult> {
    // A signup's details apply only with its own token; anyone else who proves the inbox chooses their own.
    const registration = await registrations.find(input.email, input.registration);
    if (!registration) {
      if (!input.name || !input.password) return { ok: false, reason: "choose_password" };
      const weak = passwordProblem(input.password, { appName: config.appName, name: input.name, email: input.email });
      if (weak) return { ok: false, reason: "weak_password", message: weak };
    }
    const limits = verifyFailureLimits(config, idOf(input.email), context.ip);
    const outcome = await codes.consume("verify_email", { keyEmail: input.email }, input.otp, limits);
    switch (outcome.status) {
      case "ok": {
        const credentials = registration ?? { name: input.name!, passwordHash: await hashPassword(input.password!) };
        const user = await activateUser(db, input.email, credentials, new Date(now()));
        // The pending signups stay until they expire: they are inert once the address is proven (only an
        // unverified row is ever activated), and a repeated submit of the same code then answers "used".
        if (!user) return { ok: false, reason: "used" };
        logAuthEvent("verified", { userId: user.id, registrant: Boolean(registration) });
        return { ok: true, user, signIn: !registration };
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
      // A decoy record within the same send limits as a real resend, never mailed: the limits and the code
      // checks that follow answer alike for every address.
      const decoy = await codes.issue({ purpose: "verify_email", keyEmail: email, decoy: {} });
      if (decoy.status === "limited") return rateLimited(decoy.retryAfterMs, "send");
      return { ok: true, email, delivery: decoy.status };
    }
    // Mailed after the response: the answer and its timing must not tell an unverified account from none.
    // The code proves the inbox only; which signup's details apply is the verifier's token's business.
    const sent = await codes.issue({ purpose: "verify_email", keyEmail: email, occasion: "resend", inBackground: true });
    if (sent.status === "limited") return rateLimited(sent.retryAfterMs, "send");
    await markCodeRequested(db, user.id, new Date(now()));
    return { ok: true, email, delivery: sent.status };
  }

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
  ): Promise<{ ok: true; user: User } | { ok: false; reason: "invalid_credentials" | "locked" | "unverified" } | RateLimited> {
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
    const passwordOk = user && user.passwordHash !== NO_PASSWORD ? await verifyPassword(user.passwordHash, password) : (await burnPasswordCheck(password), false);
    if (!user || !passwordOk || !user.isActive) {
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
    await Promise.all([
      store.limits("reset", [account.window, account.consecutive]),
      store.limits("refund", ipLimits(config, "login-fail", context.ip)),
    ]);
  }

  async function authenticate(input: LoginInput, context: RequestContext): Promise<AuthenticateResult> {
    // Failures are cleared below, only once every factor the account has is proven.
    const checked = await checkPassword(input.email, input.password, context, { keepFailures: true });
    if (!checked.ok) return checked;
    const { user } = checked;
    // Second factor (lib/credentials/totp.ts): asked of every account that has one on, whatever its role (staff and
    // admin must, customers may). Every password login passes here, so a reset (which signs in through
    // here) cannot bypass it. A wrong code counts as a failed login: the attempt is already counted on the
    // account and the IP, and stays counted.
    let mfa = false;
    if (await secondFactor.isEnabled(user.id)) {
      if (!input.totp) {
        logAuthEvent("login_second_factor_required", { userId: user.id });
        return { ok: false, reason: "totp_required" };
      }
      const second = await secondFactor.verify(user.id, input.totp);
      if (!second.ok) {
        logAuthEvent("login_failed", { userId: user.id, reason: "wrong_second_factor" });
        await afterResponse(() => secondFactorNotice.wrongCode(user));
        return { ok: false, reason: "invalid_credentials" };
      }
      mfa = true;
      await afterResponse(() => secondFactorNotice.cleared(user.id));
      logAuthEvent("login_ok", { userId: user.id, method: second.method });
    } else {
      logAuthEvent("login_ok", { userId: user.id });
    }
    // Clearing the counters can only loosen them, so it waits until after the response.
    if (deps.defer) deps.defer(() => settleLogin(input.email, context));
    else await settleLogin(input.email, context);
    return { ok: true, user, mfa };
  }

  return {
    register,
    verifyEmail,
    resendCode,
    authenticate,
    checkPassword,
    clearLoginFailures,
    loginRefusal,
    settleLogin,
    /**
     * How the latest mail for `purpose` to this address went. Every request that answers "on its way" moves this
     * state alike (a decoy where nothing is sent), so it does not tell which addresses have accounts.
     */
    deliveryStatus: (email: string, purpose: CodePurpose): Promise<DeliveryState | undefined> => codes.deliveryState(email, purpose),
    isPendingSignup: async (email: string, token: string) => Boolean(await registrations.find(email, token)),
    codes,
  };
}

export type Accounts = ReturnType<typeof createAccounts>;
