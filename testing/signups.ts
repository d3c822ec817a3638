import { expect } from "vitest";
import { isRegistrationToken } from "@/lib/accounts/registrations";

/**
 * Signups in the service tests: register() hands each signup a registration token (lib/accounts/registrations.ts),
 * which its own client shows again when it verifies. The tests play that client: `remember` keeps the
 * newest token per address, `of` gives it back for verification.
 */
export class SignupTokens {
  private readonly latest = new Map<string, string>();

  /** Keeps the token of an accepted signup (the address as the service normalised it); returns the result. */
  remember<R extends { ok: boolean }>(result: R): R {
    const accepted = result as unknown as { ok: boolean; email?: string; registration?: unknown };
    if (accepted.ok && typeof accepted.email === "string" && isRegistrationToken(accepted.registration)) {
      this.latest.set(accepted.email, accepted.registration);
    }
    return result;
  }

  /** The newest signup's token for this (normalised) address, if any. */
  of(email: string): string | undefined {
    return this.latest.get(email.trim().toLowerCase());
  }
}

/**
 * A register answer with its registration token checked (43 base64url characters, present in every
 * accepted answer, new or existing address alike) and taken out: tokens are random per answer, so answers
 * are compared without them.
 */
export function withoutToken<R extends { ok: boolean }>(result: R): WithoutToken<R> {
  const { registration, ...rest } = result as R & { registration?: unknown };
  if (result.ok) expect(isRegistrationToken(registration), "an accepted signup carries a registration token").toBe(true);
  return rest as WithoutToken<R>;
}

/** Each member of a result union without its token (Omit alone would merge the members). */
export type WithoutToken<R> = R extends unknown ? Omit<R, "registration"> : never;
