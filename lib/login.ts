import { CredentialsSignin } from "next-auth";
import { signIn } from "./auth";
import type { LoginInput } from "./schemas";
import { StoreUnavailableError } from "./store/code-store";

export type LoginResult = { ok: true } | { ok: false; reason: "invalid_credentials" | "unverified" | "store_unavailable" };

/**
 * Establishes an Auth.js session from email + password (the server action and the JSON API both call
 * this). The decision itself is lib/accounts.authenticate, reached through the Credentials provider.
 */
export async function signInWithPassword(input: LoginInput): Promise<LoginResult> {
  try {
    await signIn("credentials", { email: input.email, password: input.password, redirect: false });
    return { ok: true };
  } catch (error) {
    if (error instanceof CredentialsSignin) {
      return { ok: false, reason: error.code === "unverified" ? "unverified" : "invalid_credentials" };
    }
    if (isStoreOutage(error)) return { ok: false, reason: "store_unavailable" };
    throw error;
  }
}

// Auth.js wraps errors thrown in authorize() as CallbackRouteError with the original as `cause.err`.
function isStoreOutage(error: unknown): boolean {
  const cause = (error as { cause?: { err?: unknown } })?.cause?.err;
  return error instanceof StoreUnavailableError || cause instanceof StoreUnavailableError;
}
