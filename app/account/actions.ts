"use server";

import { redirect } from "next/navigation";
import { auth } from "@/lib/sessions/auth";
import { getConfig } from "@/lib/platform/config";
import { actionContext, failure, guarded, refused, textFields } from "@/lib/web/form-actions";
import type { FormState } from "@/lib/web/form-state";
import { renewCurrentSession } from "@/lib/sessions/login";
import { getAccountSettings } from "@/lib/platform/runtime";
import { changeEmailSchema, changePasswordFormSchema, choosePasswordFormSchema, fieldErrorsOf, otpOnlySchema } from "@/lib/schemas";

/* Changes to one's own account: thin adapters over lib/accounts/account-settings.ts. */

async function currentUserId(): Promise<string> {
  const session = await auth();
  if (!session?.user?.id) redirect("/login");
  return session.user.id;
}

export async function changePasswordAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const userId = await currentUserId();
  const fields = Object.fromEntries(formData);
  // Without a current-password field: an account choosing its first password (the service checks it has none).
  const schema = "currentPassword" in fields ? changePasswordFormSchema : choosePasswordFormSchema;
  const parsed = schema(getConfig().passwordMinLength).safeParse(fields);
  if (!parsed.success) return failure("invalid_input", {}, { fieldErrors: fieldErrorsOf(parsed.error), message: undefined });
  const state = await guarded({}, async () => {
    const result = await (await getAccountSettings()).changePassword(userId, parsed.data, await actionContext());
    if (!result.ok) {
      const refusal = refused(result, {}, { passwordField: "newPassword" });
      return result.reason === "invalid_credentials" ? { ...refusal, message: "Your current password is not right.", fieldErrors: { currentPassword: "Your current password is not right." } } : refusal;
    }
    await renewCurrentSession(result.user);
    return { ok: true };
  });
  if (!state.ok) return state;
  // A fresh request, so the page reads the renewed cookie: re-rendering /account within this action would
  // read the request's old cookie, find its session ended, and send the person to /login.
  redirect("/account?changed=password");
}

export async function requestEmailChangeAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const userId = await currentUserId();
  const values = textFields(formData, ["newEmail"]);
  const parsed = changeEmailSchema.safeParse(Object.fromEntries(formData));
  if (!parsed.success) return failure("invalid_input", values, { fieldErrors: fieldErrorsOf(parsed.error), message: undefined });
  const state = await guarded(values, async () => {
    const result = await (await getAccountSettings()).requestEmailChange(userId, parsed.data, await actionContext());
    if (!result.ok) {
      const refusal = refused(result, values);
      return result.reason === "invalid_credentials" ? { ...refusal, message: "Your password is not right.", fieldErrors: { password: "Your password is not right." } } : refusal;
    }
    return { ok: true };
  });
  if (!state.ok) return state;
  redirect(`/account/email?to=${encodeURIComponent(parsed.data.newEmail)}`);
}

export async function confirmEmailChangeAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const userId = await currentUserId();
  const values = textFields(formData, ["otp"]);
  const parsed = otpOnlySchema.safeParse(values);
  if (!parsed.success) return failure("invalid_input", values, { fieldErrors: fieldErrorsOf(parsed.error), message: undefined });
  const state = await guarded(values, async () => {
    const result = await (await getAccountSettings()).confirmEmailChange(userId, parsed.data, await actionContext());
    if (!result.ok) {
      const refusal = refused(result, values, { what: "trying another code" });
      return { ...refusal, fieldErrors: { otp: refusal.message! } };
    }
    await renewCurrentSession(result.user);
    return { ok: true };
  });
  if (!state.ok) return state;
  redirect("/account?changed=email");
}
