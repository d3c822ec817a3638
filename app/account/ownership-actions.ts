"use server";

import { redirect } from "next/navigation";
import { auth } from "@/lib/sessions/auth";
import { renewCurrentSession } from "@/lib/sessions/login";
import { actionContext, failure, guarded, refused, textFields } from "@/lib/web/form-actions";
import type { FormState } from "@/lib/web/form-state";
import { getAccountData, getOwnSecondFactor } from "@/lib/platform/runtime";
import { disableTotpSchema, enableTotpSchema, fieldErrorsOf, otpOnlySchema, passwordOnlySchema } from "@/lib/schemas";

/* The person's second factor and the deletion of their account, from /account: thin adapters over lib/accounts/own-second-factor.ts and lib/accounts/account-data.ts. */

async function currentUserId(): Promise<string> {
  const session = await auth();
  if (!session?.user?.id) redirect("/login");
  return session.user.id;
}

const WRONG_PASSWORD = "Your password is not right.";
const LAST_ADMIN = "You are the last admin: make someone else an admin before deleting this account.";

function passwordRefusal(result: { reason: string; retryAfterSeconds?: number }): FormState {
  if (result.reason === "invalid_credentials") return { ok: false, message: WRONG_PASSWORD, fieldErrors: { password: WRONG_PASSWORD } };
  return refused(result as Parameters<typeof refused>[0], {});
}

export async function startTotpAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const userId = await currentUserId();
  const parsed = passwordOnlySchema.safeParse(Object.fromEntries(formData));
  if (!parsed.success) return failure("invalid_input", {}, { fieldErrors: fieldErrorsOf(parsed.error), message: undefined });
  const state = await guarded({}, async () => {
    const result = await (await getOwnSecondFactor()).start(userId, parsed.data.password, await actionContext());
    if (result.ok) return { ok: true };
    if (result.reason === "not_allowed") return { ok: false, message: "Two-factor authentication is already on for this account." };
    return passwordRefusal(result);
  });
  if (!state.ok) return state;
  redirect("/account?twofactor=started#two-factor");
}

export async function confirmTotpAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const userId = await currentUserId();
  const values = textFields(formData, ["code", "emailCode"]);
  const parsed = enableTotpSchema.safeParse(values);
  if (!parsed.success) return failure("invalid_input", values, { fieldErrors: fieldErrorsOf(parsed.error), message: undefined });
  const state = await guarded(values, async (): Promise<FormState> => {
    const result = await (await getOwnSecondFactor()).confirm(userId, parsed.data, await actionContext());
    if (result.ok) {
      // Turning TOTP on ended every session: this one carries on.
      await renewCurrentSession(result.user);
      return { ok: true };
    }
    if (result.reason === "wrong_code") return { ok: false, values, message: "That code from your app is not right.", fieldErrors: { code: "That code from your app is not right." } };
    if (result.reason === "email_code_wrong") return { ok: false, values, message: "That code from the email is not right.", fieldErrors: { emailCode: "That code from the email is not right." } };
    if (result.reason === "not_pending" || result.reason === "not_allowed") return { ok: false, values, message: "Start again: type your password to get a new code." };
    const refusal = refused(result as { reason: "expired" | "used" | "too_many_attempts" | "rate_limited"; retryAfterSeconds?: number }, values, { what: "trying another code" });
    return { ...refusal, fieldErrors: { emailCode: refusal.message! } };
  });
  if (!state.ok) return state;
  redirect("/account?twofactor=on#two-factor");
}

export async function disableTotpAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const userId = await currentUserId();
  const parsed = disableTotpSchema.safeParse(Object.fromEntries(formData));
  if (!parsed.success) return failure("invalid_input", {}, { fieldErrors: fieldErrorsOf(parsed.error), message: undefined });
  const state = await guarded({}, async () => {
    const result = await (await getOwnSecondFactor()).disable(userId, parsed.data, await actionContext());
    if (result.ok) return { ok: true };
    if (result.reason === "wrong_code") return { ok: false, message: "That code is not right.", fieldErrors: { code: "That code is not right." } };
    if (result.reason === "not_allowed") return { ok: false, message: "Two-factor authentication is not on for this account." };
    return passwordRefusal(result);
  });
  if (!state.ok) return state;
  redirect("/account?twofactor=off#two-factor");
}

export async function requestDeletionAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const userId = await currentUserId();
  const parsed = passwordOnlySchema.safeParse(Object.fromEntries(formData));
  if (!parsed.success) return failure("invalid_input", {}, { fieldErrors: fieldErrorsOf(parsed.error), message: undefined });
  const state = await guarded({}, async () => {
    const result = await (await getAccountData()).requestDeletion(userId, parsed.data.password, await actionContext());
    if (result.ok) return { ok: true };
    if (result.reason === "last_admin") return { ok: false, message: LAST_ADMIN };
    return passwordRefusal(result);
  });
  if (!state.ok) return state;
  redirect("/account?delete=sent#delete-account");
}

export async function deleteAccountAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const userId = await currentUserId();
  const values = textFields(formData, ["otp"]);
  const parsed = otpOnlySchema.safeParse(values);
  if (!parsed.success) return failure("invalid_input", values, { fieldErrors: fieldErrorsOf(parsed.error), message: undefined });
  const state = await guarded(values, async () => {
    const result = await (await getAccountData()).deleteAccount(userId, parsed.data.otp, await actionContext());
    if (result.ok) return { ok: true };
    if (result.reason === "last_admin") return { ok: false, values, message: LAST_ADMIN };
    const refusal = refused(result as { reason: "wrong_code" | "expired" | "used" | "too_many_attempts" | "rate_limited"; retryAfterSeconds?: number }, values, { what: "trying another code" });
    return { ...refusal, fieldErrors: { otp: refusal.message! } };
  });
  if (!state.ok) return state;
  redirect("/login?deleted=1");
}
