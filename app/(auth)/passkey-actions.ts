"use server";

import { headers } from "next/headers";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { getConfig } from "@/lib/platform/config";
import { actionContext, guarded, refused } from "@/lib/web/form-actions";
import type { FormState } from "@/lib/web/form-state";
import { signInWithPasskey } from "@/lib/sessions/login";
import { relyingParty } from "@/lib/credentials/passkey-relying-party";
import { getPasskeys } from "@/lib/platform/runtime";

/* Sign-in with a passkey from the login page: thin adapters over lib/credentials/passkeys.ts, reached through Auth.js. */

const PASSKEY_REFUSED = "That passkey did not sign you in. Try again, or log in with your email and password.";

export async function passkeySignInOptionsAction(): Promise<PublicKeyCredentialRequestOptionsJSON | null> {
  const rp = relyingParty(getConfig(), await headers());
  return (rp && (await (await getPasskeys()).signInOptions(rp, await actionContext()))) ?? null;
}

/** The browser's answer, as JSON; the page goes on to /account when this answers ok. */
export async function passkeySignInAction(response: string): Promise<FormState> {
  return guarded({}, async () => {
    const result = await signInWithPasskey(String(response));
    if (result.ok) return { ok: true };
    if (result.reason === "expired") return { ok: false, reason: "expired", message: "That passkey request has expired. Try again." };
    if (result.reason === "invalid_credentials") return { ok: false, reason: "invalid_credentials", message: PASSKEY_REFUSED };
    return refused(result, {});
  });
}
