import "server-only";
import { NO_PASSWORD, type User } from "@/db/schema";
import { changeEmail, findUserByEmail, findUserById, setPassword } from "@/db/users";
import type { AccountDependencies, SharedParts, WeakPassword } from "./accounts";
import { verifyFailureLimits } from "../codes/limits";
import { logAuthEvent } from "../platform/log";
import { passwordProblem } from "../credentials/password-policy";
import { hashPassword } from "../credentials/passwords";
import { confirmOwnPassword, type PasswordRefusal } from "./password-confirmation";
import { codeRefusalReason, rateLimited, type CodeRefusal, type RateLimited, type RequestContext } from "./results";
import { rememberSessionVersion } from "../sessions/sessions";

/**
 * Changes a signed-in person makes to their own account. Each asks for the current password (within
 * the login limits); a new address counts only once a code sent to it is proven.
 */

export type ChangePasswordResult = { ok: true; user: User } | PasswordRefusal | WeakPassword;
export type EmailChangeRequestResult = { ok: true; email: string } | PasswordRefusal;
export type EmailChangeResult = { ok: true; user: User; previousEmail: string } | CodeRefusal | { ok: false; reason: "email_taken" } | RateLimited;

export function createAccountSettings(deps: AccountDependencies, parts: Pick<SharedParts, "codes" | "loginAttempts">) {
  const { db, store, config } = deps;
  const now = deps.now ?? Date.now;
  const { codes, loginAttempts } = parts;
  const confirmPassword = (userId: string, password: string, context: RequestContext) => confirmOwnPassword({ db, loginAttempts }, userId, password, context);

  /**
   * An account that has no password yet (it proved its address by a code and chose none) sets its first
   * one without a current password: the signed-in session is what proves it.
   */
  async function changePassword(
    userId: string,
    input: { currentPassword?: string; newPassword: string },
    context: RequestContext,
  ): Promise<ChangePasswordResult> {
    const current = await findUserById(db, userId);
    const checked =
      current && current.passwordHash === NO_PASSWORD && current.emailVerifiedAt
        ? { ok: true as const, user: current }
        : await confirmPassword(userId, input.currentPassword ?? "", context);
    if (!checked.ok) return checked;
    const weak = passwordProblem(input.newPassword, { appName: config.appName, name: checked.user.name, email: checked.user.email });
    if (weak) return { ok: false, reason: "weak_password", message: weak };
    const updated = await setPassword(db, userId, await hashPassword(input.newPassword), new Date(now()), false);
    if (!updated) return { ok: false, reason: "invalid_credentials" };
    await rememberSessionVersion(store, updated);
    await codes.notify("password_changed", updated.email);
    logAuthEvent("password_changed", { userId });
    return { ok: true, user: updated };
  }

  /**
   * Sends a code to the new address. An address that already has a verified account gets the same notice a
   * signup would send, and the person here gets the same answer: nothing beyond what signup reveals.
   */
  async function requestEmailChange(userId: string, input: { newEmail: string; password: string }, context: RequestContext): Promise<EmailChangeRequestResult> {
    const checked = await confirmPassword(userId, input.password, context);
    if (!checked.ok) return checked;
    const holder = input.newEmail === checked.user.email ? checked.user : await findUserByEmail(db, input.newEmail);
    // An unverified signup does not own the address: proving the inbox takes it over (changeEmail).
    const taken = holder?.emailVerifiedAt ? holder : undefined;
    // One pending change per account (its record, see RecordOwner); the new address rides in the payload. A taken
    // address (this account's own too) gets a decoy code that is never mailed, so the codes answer alike.
    const target = { purpose: "change_email", accountId: userId, to: input.newEmail } as const;
    const sent = !taken
      ? await codes.issue({ ...target, payload: JSON.stringify({ newEmail: input.newEmail }) })
      : await codes.issue({ ...target, decoy: taken.id === userId ? {} : { notice: "existing_account" } });
    logAuthEvent("email_change_requested", { userId });
    // Told truthfully, and alike whether or not the new address has an account.
    if (sent.status === "limited") return rateLimited(sent.retryAfterMs, "send");
    return { ok: true, email: input.newEmail };
  }

  async function confirmEmailChange(userId: string, input: { otp: string }, context: RequestContext): Promise<EmailChangeResult> {
    const user = await findUserById(db, userId);
    if (!user) return { ok: false, reason: "used" };
    const limits = verifyFailureLimits(config, codes.idOf(user.email), context.ip);
    const outcome = await codes.consume("change_email", { accountId: userId }, input.otp, limits);
    if (outcome.status === "rate_limited") return rateLimited(outcome.retryAfterMs, "verify_failures");
    if (outcome.status !== "ok") return { ok: false, reason: codeRefusalReason(outcome) };
    const { newEmail } = JSON.parse(outcome.payload) as { newEmail: string };
    const updated = await changeEmail(db, userId, newEmail, new Date(now()));
    if (!updated) return { ok: false, reason: "email_taken" };
    await rememberSessionVersion(store, updated);
    await codes.notify("email_changed", user.email);
    logAuthEvent("email_changed", { userId });
    return { ok: true, user: updated, previousEmail: user.email };
  }

  /** The signed-in person's account, as the settings page shows it. */
  const account = (userId: string): Promise<User | undefined> => findUserById(db, userId);

  return { account, changePassword, requestEmailChange, confirmEmailChange };
}

export type AccountSettings = ReturnType<typeof createAccountSettings>;
