import "server-only";
import type { User } from "@/db/schema";
import { NO_PASSWORD } from "@/db/schema";
import { activateUser, findUserByEmail, markCodeRequested, setPassword } from "@/db/users";
import type { AccountDependencies, SharedParts, WeakPassword } from "./accounts";
import type { AppConfig } from "../platform/config";
import { ipLimit, ipLimits, loginAccountLimits, verifyFailureLimits } from "../codes/limits";
import { logAuthEvent } from "../platform/log";
import { passwordProblem } from "../credentials/password-policy";
import { hashPassword } from "../credentials/passwords";
import { isDeactivated } from "./account-state";
import { codeRefusalReason, rateLimited, type CodeRefusal, type RateLimited, type RequestContext } from "./results";
import { rememberSessionVersion } from "../sessions/sessions";
import type { ConsumeCodeOutcome } from "../store/code-store";

/**
 * Getting in without the password: reset by code, and (when enabled) sign-in by code. Both run on the
 * code machinery of lib/codes/one-time-codes.ts with the limits of signup and login.
 */

export type RequestResult = { ok: true } | RateLimited | { ok: false; reason: "disabled" };
export type ResetResult = { ok: true; user: User } | CodeRefusal | WeakPassword | RateLimited;
export type CodeSignInResult = { ok: true; user: User } | CodeRefusal | { ok: false; reason: "locked" | "disabled" } | RateLimited;

/** "Sign in with a code" also verifies an unverified account: its code carries this payload. */
const VERIFY_ON_SIGN_IN = JSON.stringify({ verify: true });

export function createRecovery(deps: AccountDependencies & { config: Pick<AppConfig, "signInByCode"> }, parts: SharedParts) {
  const { db, store, config } = deps;
  const now = deps.now ?? Date.now;
  const { codes, loginAttempts, secondFactor } = parts;

  /** Who may sign in by an emailed code alone: active customers without a second factor (the code is one factor). */
  async function signsInByCode(user: User | undefined): Promise<boolean> {
    return Boolean(user && user.isActive && user.role === "customer" && !(await secondFactor.isEnabled(user.id)));
  }

  function refusal(outcome: Exclude<ConsumeCodeOutcome, { status: "ok" } | { status: "rate_limited" }>): CodeRefusal {
    const reason = codeRefusalReason(outcome);
    logAuthEvent("verify_failed", { reason });
    return { ok: false, reason };
  }

  /** Answers alike whether or not the address has an account; mail only goes to one that does. */
  async function requestPasswordReset(email: string, context: RequestContext): Promise<RequestResult> {
    const ipCheck = await store.limits("hit", [ipLimit(config, "resend", context.ip)]);
    if (!ipCheck.allowed) return rateLimited(ipCheck.retryAfterMs, "reset_ip");
    const user = await findUserByEmail(db, email);
    if (!user || isDeactivated(user)) {
      // A decoy record (never mailed): wrong codes then run out and expire exactly as for a real one.
      const decoy = await codes.issue({ purpose: "reset_password", keyEmail: email, decoy: {} });
      if (decoy.status === "limited") return rateLimited(decoy.retryAfterMs, "send");
    } else {
      const sent = await codes.issue({ purpose: "reset_password", keyEmail: email, inBackground: true });
      logAuthEvent("reset_requested", { userId: user.id, delivery: sent.status });
      // Told truthfully, and alike for an address without an account (the same limits answer above).
      if (sent.status === "limited") return rateLimited(sent.retryAfterMs, "send");
      await markCodeRequested(db, user.id, new Date(now()));
    }
    return { ok: true };
  }

  async function resetPassword(input: { email: string; otp: string; password: string }, context: RequestContext): Promise<ResetResult> {
    const user = await findUserByEmail(db, input.email);
    // Checked before the code, so only what the requester typed may count: the account's name would make
    // this answer tell, without a code, whether the address has an account (tests/service/code-purposes.test.ts).
    const weak = passwordProblem(input.password, { appName: config.appName, email: input.email });
    if (weak) return { ok: false, reason: "weak_password", message: weak };
    const limits = verifyFailureLimits(config, codes.idOf(input.email), context.ip);
    const outcome = await codes.consume("reset_password", { keyEmail: input.email }, input.otp, limits);
    if (outcome.status === "rate_limited") return rateLimited(outcome.retryAfterMs, "verify_failures");
    if (outcome.status !== "ok") return refusal(outcome);
    if (!user) return { ok: false, reason: "used" };
    const updated = await setPassword(db, user.id, await hashPassword(input.password), new Date(now()), true);
    if (!updated) return { ok: false, reason: "used" };
    await rememberSessionVersion(store, updated);
    // The code proved the address: the login failures (and a lock after 100 of them) are cleared.
    await loginAttempts.clearLoginFailures(input.email);
    await codes.notify("password_changed", input.email);
    logAuthEvent("password_reset", { userId: updated.id });
    return { ok: true, user: updated };
  }

  async function requestSignInCode(email: string, context: RequestContext): Promise<RequestResult> {
    if (!config.signInByCode) return { ok: false, reason: "disabled" };
    const ipCheck = await store.limits("hit", [ipLimit(config, "resend", context.ip)]);
    if (!ipCheck.allowed) return rateLimited(ipCheck.retryAfterMs, "sign_in_code_ip");
    const user = await findUserByEmail(db, email);
    let sent: { status: "sending" | "sent" | "failed" } | { status: "limited"; retryAfterMs: number };
    if (user && !user.emailVerifiedAt) {
      // Not verified yet: the code verifies the address too, and its email says so.
      sent = await codes.issue({
        purpose: "sign_in",
        keyEmail: email,
        payload: VERIFY_ON_SIGN_IN,
        mailAs: "verify_email",
        occasion: "sign_in_unverified",
        inBackground: true,
      });
      if (sent.status !== "limited") await markCodeRequested(db, user.id, new Date(now()));
    } else if (await signsInByCode(user)) {
      sent = await codes.issue({ purpose: "sign_in", keyEmail: email, inBackground: true });
    } else {
      // No account, a deactivated one, staff, or a second factor on (never signed in by email): same answer, a
      // decoy record, no mail.
      sent = await codes.issue({ purpose: "sign_in", keyEmail: email, decoy: {} });
    }
    if (sent.status === "limited") return rateLimited(sent.retryAfterMs, "send");
    return { ok: true };
  }

  async function signInWithCode(input: { email: string; otp: string }, context: RequestContext): Promise<CodeSignInResult> {
    if (!config.signInByCode) return { ok: false, reason: "disabled" };
    // Guessing a sign-in code spends the same budget as guessing the password.
    const account = loginAccountLimits(config, codes.idOf(input.email));
    const outcome = await codes.consume("sign_in", { keyEmail: input.email }, input.otp, [
      account.window,
      account.consecutive,
      ...ipLimits(config, "login-fail", context.ip),
    ]);
    if (outcome.status === "rate_limited") return loginAttempts.loginRefusal(outcome.retryAfterMs);
    if (outcome.status !== "ok") return refusal(outcome);
    let user = await findUserByEmail(db, input.email);
    if (user && !user.emailVerifiedAt && outcome.payload === VERIFY_ON_SIGN_IN) {
      // The inbox is proven, not any signup's details: none apply. The person chooses a password signed in.
      user = await activateUser(db, input.email, { name: "", passwordHash: NO_PASSWORD }, new Date(now()));
      if (user) logAuthEvent("verified", { userId: user.id, registrant: false });
    } else if (await signsInByCode(user)) {
      await codes.notify("signed_in_by_code", input.email);
    } else {
      user = undefined;
    }
    if (!user || !user.isActive) return { ok: false, reason: "used" };
    await loginAttempts.clearLoginFailures(input.email);
    logAuthEvent("login_ok", { userId: user.id, method: "email_code" });
    return { ok: true, user };
  }

  return { requestPasswordReset, resetPassword, requestSignInCode, signInWithCode };
}

export type Recovery = ReturnType<typeof createRecovery>;
