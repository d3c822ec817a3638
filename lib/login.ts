import { CredentialsSignin } from "next-auth";
import { signIn } from "./auth";
import type { LoginInput } from "./schemas";
import { StoreUnavailableError } from "./store/code-store";

export type LoginResult =
  | { ok: true }
  | { ok: false; reason: "invalid_credentials" | "unverified" | "locked" | "store_unavailable" }
  | { ok: false; reason: "rate_limited"; retryAfterSeconds: number };

/**
 * Establishes an Auth.js session from email + password (the server action and the JSON API both call
 * this). The decision itself is lib/accounts.authenticate, reached through the Credentials provider,
 * whose refusals arrive here as CredentialsSignin codes (see lib/auth.ts).
 */
export async function signInWithPassword(input: LoginInput): Promise<LoginResult> {
  try {
    await signIn("credentials", { email: input.email, password: input.password, redirect: false });
    return { ok: true };
  } catch (error) {
    if (error instanceof CredentialsSignin) return fromSignInCode(error.code);
    if (isStoreOutage(error)) return { ok: false, reason: "store_unavailable" };
    throw error;
  }
}

function fromSignInCode(code: string): LoginResult {
  const [reason, retryAfter] = code.split(":");
  if (reason === "rate_limited") return { ok: false, reason, retryAfterSeconds: Number(retryAfter) || 60 };
  if (reason === "unverified" || reason === "locked") return { ok: false, reason };
  return { ok: false, reason: "invalid_credentials" };
}

// Auth.js wraps errors thrown in authorize() as CallbackRouteError with the original as `cause.err`.
function isStoreOutage(error: unknown): boolean {
  const cause = (error as { cause?: { err?: unknown } })?.cause?.err;
  return error instanceof StoreUnavailableError || cause instanceof StoreUnavailableError;
}
