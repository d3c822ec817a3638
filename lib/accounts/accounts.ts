import "server-only";
import { randomUUID } from "node:crypto";
import type { Database } from "@/db/client";
import type { User } from "@/db/schema";
import { activateUser, findUserByEmail, insertInactiveCustomer, markCodeRequested } from "@/db/users";
import type { CodePurpose } from "../codes/codes";
import type { AppConfig } from "../platform/config";
import { ipLimit, verifyFailureLimits } from "../codes/limits";
import { logAuthEvent } from "../platform/log";
import type { DeliveryQueue, DeliveryState } from "../mail/delivery-queue";
import type { Mailer } from "../mail/mailer";
import type { CodeMachinery, Delivery } from "../codes/one-time-codes";
import { passwordProblem } from "../credentials/password-policy";
import { hashPassword } from "../credentials/passwords";
import type { LoginAttempts } from "./login-attempts";
import { newRegistrationToken, type Registrations } from "./registrations";
import { codeRefusalReason, rateLimited, type CodeRefusal, type RateLimited, type RequestContext } from "./results";
import type { SecondFactorNotice } from "./second-factor-notice";
import type { LoginInput, RegisterInput, VerifyInput } from "../schemas";
import type { CodeStore } from "../store/code-store";
import type { SecondFactor } from "../credentials/totp";

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

/**
 * What the services share, each wired once by the composition root (lib/platform/runtime.ts) and handed to
 * the services that need it: the code machinery, the login limits with the password check, the second factor.
 */
export interface SharedParts {
  codes: CodeMachinery;
  loginAttempts: LoginAttempts;
  secondFactor: SecondFactor;
}

export type WeakPassword = { ok: false; reason: "weak_password"; message: string };

/** How the code a request asked for went: "wait" when a send limit held it back (retryAfterSeconds says how long). */
export type SendReport = { delivery: Delivery } | { delivery: "wait"; retryAfterSeconds: number };

export type RegisterResult =
  /** registration: what this signup's own client shows when it verifies (lib/accounts/registrations.ts). */
  ({ ok: true; email: string; registration: string } & SendReport) | WeakPassword | RateLimited;

export type VerifyResult =
  /** signIn: whoever proved the address chose the password just now; the adapters sign them in with it. */
  | { ok: true; user: User; signIn: boolean }
  /** choose_password: the code did not come from this signup's own client, so its details cannot apply. */
  | CodeRefusal
  | { ok: false; reason: "choose_password" }
  | WeakPassword
  | RateLimited;

export type ResendResult = { ok: true; email: string; delivery: Delivery } | RateLimited;

export type AuthenticateResult =
  /** mfa: a second factor (lib/credentials/totp.ts) was proven in this login, as /admin requires. */
  { ok: true; user: User; mfa: boolean } | { ok: false; reason: "invalid_credentials" | "unverified" | "locked" | "totp_required" } | RateLimited;

export function sendReport(sent: { status: Delivery } | { status: "limited"; retryAfterMs: number }): SendReport {
  if (sent.status === "limited") return { delivery: "wait", retryAfterSeconds: Math.max(1, Math.ceil(sent.retryAfterMs / 1000)) };
  return { delivery: sent.status };
}

export function createAccounts(deps: AccountDependencies, parts: SharedParts & { registrations: Registrations; secondFactorNotice: SecondFactorNotice }) {
  const { db, store, config } = deps;
  const now = deps.now ?? Date.now;
  const { codes, loginAttempts, secondFactor, registrations, secondFactorNotice } = parts;
  const afterResponse = async (task: () => Promise<unknown>) => void (deps.defer ? deps.defer(task) : await task());
  const { idOf } = codes;

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
      default: {
        const reason = codeRefusalReason(outcome);
        logAuthEvent("verify_failed", { reason });
        return { ok: false, reason };
      }
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

  async function authenticate(input: LoginInput, context: RequestContext): Promise<AuthenticateResult> {
    // Failures are cleared below, only once every factor the account has is proven.
    const checked = await loginAttempts.checkPassword(input.email, input.password, context, { keepFailures: true });
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
    if (deps.defer) deps.defer(() => loginAttempts.settleLogin(input.email, context));
    else await loginAttempts.settleLogin(input.email, context);
    return { ok: true, user, mfa };
  }

  return {
    register,
    verifyEmail,
    resendCode,
    authenticate,
    /**
     * How the latest mail for `purpose` to this address went. Every request that answers "on its way" moves this
     * state alike (a decoy where nothing is sent), so it does not tell which addresses have accounts.
     */
    deliveryStatus: (email: string, purpose: CodePurpose): Promise<DeliveryState | undefined> => codes.deliveryState(email, purpose),
    isPendingSignup: async (email: string, token: string) => Boolean(await registrations.find(email, token)),
  };
}

export type Accounts = ReturnType<typeof createAccounts>;
