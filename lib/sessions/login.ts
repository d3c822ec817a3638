import "server-only";
import { CredentialsSignin } from "next-auth";
import { decode } from "next-auth/jwt";
import { headers } from "next/headers";
import { getDatabase } from "@/db/client";
import { signIn, updateSession } from "./auth";
import { getConfig } from "../platform/config";
import { logAuthEvent } from "../platform/log";
import { getCodeStore } from "../platform/runtime";
import { cookiePairs, sessionTokens } from "./session-cookie";
import { endSession, grantSessionRenewal, type SessionClaims } from "./sessions";
import type { CodeRefusalReason } from "../accounts/results";
import type { LoginInput } from "../schemas";
import { StoreUnavailableError } from "../store/code-store";

type CodeReason = CodeRefusalReason | "disabled";

export type LoginResult =
  | { ok: true }
  | { ok: false; reason: "invalid_credentials" | "unverified" | "locked" | "totp_required" | "store_unavailable" | CodeReason }
  | { ok: false; reason: "rate_limited"; retryAfterSeconds: number };

const CODE_REASONS = new Set<string>(["wrong_code", "expired", "used", "too_many_attempts", "disabled"]);

/**
 * Establishes an Auth.js session from email + password (the server action and the JSON API both call
 * this). The decision itself is lib/accounts/accounts.authenticate, reached through the Credentials provider,
 * whose refusals arrive here as CredentialsSignin codes (see lib/sessions/auth.ts).
 */
export function signInWithPassword(input: LoginInput): Promise<LoginResult> {
  return establishSession("credentials", { email: input.email, password: input.password, ...(input.totp ? { totp: input.totp } : {}) });
}

/** The same for a code emailed by "sign in with a code" (lib/accounts/recovery.ts signInWithCode decides). */
export function signInWithEmailCode(input: { email: string; otp: string }): Promise<LoginResult> {
  return establishSession("email-code", input);
}

/** The same for a passkey: the browser's answer to a sign-in challenge, as JSON (lib/credentials/passkeys.ts signIn decides). */
export function signInWithPasskey(response: string): Promise<LoginResult> {
  return establishSession("passkey", { response });
}

async function establishSession(provider: string, credentials: Record<string, string>): Promise<LoginResult> {
  const replaced = await sessionsInCookies();
  try {
    await signIn(provider, { ...credentials, redirect: false });
  } catch (error) {
    if (error instanceof CredentialsSignin) return fromSignInCode(error.code);
    if (isStoreOutage(error)) return { ok: false, reason: "store_unavailable" };
    throw error;
  }
  // The new session replaces the one this browser had: a copy of the old cookie must not live on.
  if (replaced.length > 0) await endReplacedSessions(replaced);
  return { ok: true };
}

/** The sign-in has happened (its cookie is set): a store outage here is logged, not reported as a failed login. */
async function endReplacedSessions(replaced: Partial<SessionClaims>[]): Promise<void> {
  try {
    const deps = { db: await getDatabase(), store: await getCodeStore(), config: getConfig().auth };
    await Promise.all(replaced.map((claims) => endSession(deps, claims, Date.now())));
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    logAuthEvent("store_unavailable", { during: "ending_replaced_session" });
  }
}

/** The claims of every session cookie the request came with that decrypts (lib/sessions/session-cookie.ts finds them). */
async function sessionsInCookies(): Promise<Partial<SessionClaims>[]> {
  const secret = getConfig().auth.secret;
  const decoded = await Promise.all(
    sessionTokens(cookiePairs((await headers()).get("cookie"))).map(([salt, token]) => decode({ token, secret, salt }).catch(() => null)),
  );
  return decoded.filter((claims) => claims !== null);
}

function fromSignInCode(code: string): LoginResult {
  const [reason = "", retryAfter] = code.split(":");
  if (reason === "rate_limited") return { ok: false, reason, retryAfterSeconds: Number(retryAfter) || 60 };
  if (reason === "unverified" || reason === "locked" || reason === "totp_required") return { ok: false, reason };
  if (CODE_REASONS.has(reason)) return { ok: false, reason: reason as CodeReason };
  return { ok: false, reason: "invalid_credentials" };
}

// Auth.js wraps errors thrown in authorize() as CallbackRouteError with the original as `cause.err`.
function isStoreOutage(error: unknown): boolean {
  const cause = (error as { cause?: { err?: unknown } })?.cause?.err;
  return error instanceof StoreUnavailableError || cause instanceof StoreUnavailableError;
}

/**
 * After a person changed their own password or email (which ends every session), keeps the session
 * they are using alive under the new session version.
 */
export async function renewCurrentSession(user: { id: string; sessionVersion: number; email: string }): Promise<void> {
  const renewFor = grantSessionRenewal(getConfig().auth.secret, { userId: user.id, sessionVersion: user.sessionVersion, email: user.email }, Date.now());
  await updateSession({ renewFor });
}
