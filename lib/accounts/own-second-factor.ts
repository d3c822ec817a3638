import "server-only";
import { findUserById } from "@/db/users";
import type { AccountDependencies, Delivery, SharedParts } from "./accounts";
import { verifyFailureLimits } from "../codes/limits";
import { logAuthEvent } from "../platform/log";
import { confirmOwnPassword, type PasswordRefusal } from "./password-confirmation";
import { codeRefusalReason, rateLimited, type CodeRefusalReason, type RateLimited, type RequestContext } from "./results";
import type { PendingEnrolment, SecondFactorStatus } from "../credentials/totp";
import { bumpSessionVersion } from "../sessions/sessions";

/**
 * A customer turns TOTP on (or off) for their own account: the staff implementation (lib/credentials/totp.ts), with
 * the account proven first by the password typed again and then a code mailed to the address. The code is
 * issued only right after a right password and lives minutes, so consuming it proves both, recently.
 * Staff and admin enrol with an operator's code instead (/admin/enroll).
 */

export type StartResult = { ok: true; enrolment: PendingEnrolment; delivery: Delivery } | PasswordRefusal | { ok: false; reason: "not_allowed" };
export type ConfirmResult =
  /** user: the new session version, for the adapter to keep the person's own session (renewCurrentSession). */
  | { ok: true; user: { id: string; sessionVersion: number; email: string } }
  | { ok: false; reason: CodeRefusalReason | "not_pending" | "email_code_wrong" | "not_allowed" }
  | RateLimited;
export type DisableResult = { ok: true } | PasswordRefusal | { ok: false; reason: "wrong_code" | "not_allowed" };

export function createOwnSecondFactor(deps: AccountDependencies, parts: SharedParts) {
  const { db, store, config } = deps;
  const { codes, loginAttempts, secondFactor } = parts;

  async function customer(userId: string) {
    const user = await findUserById(db, userId);
    return user && user.role === "customer" && user.isActive ? user : undefined;
  }

  async function status(userId: string): Promise<SecondFactorStatus> {
    return secondFactor.status(userId);
  }

  /** The password again, then a code to the address; the QR code, secret and recovery codes to show. */
  async function start(userId: string, password: string, context: RequestContext): Promise<StartResult> {
    const user = await customer(userId);
    if (!user || (await secondFactor.isEnabled(userId))) return { ok: false, reason: "not_allowed" };
    const checked = await confirmOwnPassword({ db, loginAttempts }, userId, password, context);
    if (!checked.ok) return checked;
    const sent = await codes.issue({ purpose: "enable_totp", accountId: userId, to: user.email });
    if (sent.status === "limited") return rateLimited(sent.retryAfterMs, "send");
    const enrolment = await secondFactor.pendingEnrolment(user);
    if (!enrolment) return { ok: false, reason: "not_allowed" };
    return { ok: true, enrolment, delivery: sent.status };
  }

  /** What the page shows between start and confirm (undefined before start: nothing is shown without the password). */
  async function pending(userId: string): Promise<PendingEnrolment | undefined> {
    const user = await customer(userId);
    if (!user || !(await secondFactor.status(userId)).pending) return undefined;
    return secondFactor.pendingEnrolment(user);
  }

  /**
   * The app's code (so the app is set up), then the mailed code (so the account is proven): then it is on, and
   * every session of the account ends (the adapter renews the one in use).
   */
  async function confirm(userId: string, input: { code: string; emailCode: string }, context: RequestContext): Promise<ConfirmResult> {
    const user = await customer(userId);
    if (!user) return { ok: false, reason: "not_allowed" };
    const limits = verifyFailureLimits(config, codes.idOf(user.email), context.ip);
    let limited: RateLimited | undefined;
    const result = await secondFactor.confirmEnrolmentProven(userId, input.code, async () => {
      const outcome = await codes.consume("enable_totp", { accountId: userId }, input.emailCode, limits);
      if (outcome.status === "ok") return { ok: true as const };
      if (outcome.status === "rate_limited") {
        limited = rateLimited(outcome.retryAfterMs, "verify_failures");
        return { ok: false as const, reason: "rate_limited" as const };
      }
      logAuthEvent("totp_enrolment_failed", { userId, reason: `email_${outcome.status}` });
      const reason = codeRefusalReason(outcome);
      return { ok: false as const, reason: reason === "wrong_code" ? ("email_code_wrong" as const) : reason };
    });
    if (limited) return limited;
    if (!result.ok) return result as ConfirmResult;
    // Every other session ends, as on a password change: one opened before (a stolen copy too) must not carry
    // on without the second factor, or add a passkey that would skip it.
    const bumped = await bumpSessionVersion(db, store, userId);
    if (!bumped) return { ok: false, reason: "not_allowed" };
    return { ok: true, user: bumped };
  }

  /** Turning it off takes the password and a code from the app (or a recovery code): a stolen session alone cannot. */
  async function disable(userId: string, input: { password: string; code: string }, context: RequestContext): Promise<DisableResult> {
    const user = await customer(userId);
    if (!user || !(await secondFactor.isEnabled(userId))) return { ok: false, reason: "not_allowed" };
    // As at login: the attempt stays counted until the app's code is right too, so the code cannot be guessed here without limit.
    const checked = await confirmOwnPassword({ db, loginAttempts }, userId, input.password, context, { keepFailures: true });
    if (!checked.ok) return checked;
    const second = await secondFactor.verify(userId, input.code);
    if (!second.ok) {
      logAuthEvent("login_failed", { userId, reason: "wrong_second_factor" });
      return { ok: false, reason: "wrong_code" };
    }
    await loginAttempts.clearLoginFailures(user.email);
    await secondFactor.reset(userId);
    logAuthEvent("totp_disabled", { userId });
    return { ok: true };
  }

  return { status, start, pending, confirm, disable };
}

export type OwnSecondFactor = ReturnType<typeof createOwnSecondFactor>;
