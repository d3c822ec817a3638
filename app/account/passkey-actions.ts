"use server";

import { headers } from "next/headers";
import { redirect } from "next/navigation";
import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import { requireSession } from "@/lib/sessions/current-session";
import { getConfig } from "@/lib/platform/config";
import { guarded } from "@/lib/web/form-actions";
import type { FormState } from "@/lib/web/form-state";
import { relyingParty } from "@/lib/credentials/passkey-relying-party";
import type { PasskeyOwner } from "@/lib/credentials/passkeys";
import { getPasskeys } from "@/lib/platform/runtime";
import { passkeyNameSchema } from "@/lib/schemas";

/* The account's passkeys: thin adapters over lib/credentials/passkeys.ts. Rename and remove are plain forms (no JavaScript needed). */

const NOT_ALLOWED: Record<string, string> = {
  not_allowed: "Passkeys can be added once your email address is verified.",
  second_factor_required: "Log in with your authenticator code first: staff accounts add passkeys from a session opened with the second factor.",
  too_many: "This account has as many passkeys as it can hold. Remove one to add another.",
  expired: "That took too long, or the request was already used. Try again.",
  invalid: "That passkey could not be added: the browser's answer did not check out. Try again.",
  already_added: "That passkey is already on your account.",
};

async function signedIn(): Promise<PasskeyOwner> {
  const { userId, mfa } = await requireSession();
  return { userId, mfa };
}

export async function passkeyRegistrationOptionsAction(): Promise<
  { ok: true; options: PublicKeyCredentialCreationOptionsJSON } | { ok: false; message: string }
> {
  const who = await signedIn();
  const rp = relyingParty(getConfig(), await headers());
  if (!rp) return { ok: false, message: NOT_ALLOWED.invalid! };
  const result = await (await getPasskeys()).registrationOptions(who, rp);
  return result.ok ? result : { ok: false, message: NOT_ALLOWED[result.reason]! };
}

export async function addPasskeyAction(response: string): Promise<FormState> {
  const who = await signedIn();
  return guarded({}, async () => {
    const rp = relyingParty(getConfig(), await headers());
    let parsed: unknown;
    try {
      parsed = typeof response === "string" && response.length <= 16_384 ? JSON.parse(response) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!rp || !parsed) return { ok: false, message: NOT_ALLOWED.invalid };
    const result = await (await getPasskeys()).addPasskey(who, parsed, rp);
    return result.ok ? { ok: true } : { ok: false, message: NOT_ALLOWED[result.reason] };
  });
}

export async function renamePasskeyAction(formData: FormData): Promise<void> {
  const who = await signedIn();
  const id = String(formData.get("id") ?? "");
  const parsed = passkeyNameSchema.safeParse({ name: formData.get("name") });
  if (!parsed.success) redirect("/account?passkey=bad-name#passkeys");
  await (await getPasskeys()).rename(who.userId, id, parsed.data.name);
  redirect("/account?passkey=renamed#passkeys");
}

export async function removePasskeyAction(formData: FormData): Promise<void> {
  const who = await signedIn();
  const result = await (await getPasskeys()).remove(who.userId, String(formData.get("id") ?? ""));
  redirect(`/account?passkey=${result.ok ? "removed" : result.reason === "last_way_in" ? "last" : "gone"}#passkeys`);
}
