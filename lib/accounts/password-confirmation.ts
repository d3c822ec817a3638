import "server-only";
import { NO_PASSWORD, type User } from "@/db/schema";
import { findUserById } from "@/db/users";
import type { LoginAttempts } from "./login-attempts";
import type { Database } from "@/db/client";
import type { RateLimited, RequestContext } from "./results";

export type PasswordRefusal = { ok: false; reason: "invalid_credentials" | "locked" | "no_password" } | RateLimited;

/**
 * The signed-in person types their password again, within the login limits (a wrong one counts as a failed
 * login). keepFailures: the attempt stays counted until the caller's next factor is proven too. A verified account
 * that has no password yet (it signed in by an emailed code) is told so, and nothing is counted: there is nothing to guess.
 */
export async function confirmOwnPassword(
  deps: { db: Database; loginAttempts: Pick<LoginAttempts, "checkPassword"> },
  userId: string,
  password: string,
  context: RequestContext,
  options: { keepFailures?: boolean } = {},
): Promise<{ ok: true; user: User } | PasswordRefusal> {
  const user = await findUserById(deps.db, userId);
  if (!user) return { ok: false, reason: "invalid_credentials" };
  // An unverified row holds no password either, but nobody is signed in to it: that stays a plain refusal.
  if (user.passwordHash === NO_PASSWORD && user.emailVerifiedAt) return { ok: false, reason: "no_password" };
  const checked = await deps.loginAttempts.checkPassword(user.email, password, context, options);
  // Signed-in accounts are verified; the signup hint has no place here.
  if (!checked.ok && checked.reason === "unverified") return { ok: false, reason: "invalid_credentials" };
  return checked as { ok: true; user: User } | PasswordRefusal;
}
