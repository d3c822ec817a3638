"use server";

import { redirect } from "next/navigation";
import { getConfig } from "@/lib/platform/config";
import { actionContext, failure, guarded, refused, textFields } from "@/lib/web/form-actions";
import type { FormState } from "@/lib/web/form-state";
import { signInWithEmailCode, signInWithPassword } from "@/lib/sessions/login";
import { getRecovery } from "@/lib/platform/runtime";
import { emailOnlySchema, fieldErrorsOf, resetPasswordFormSchema, verifySchema } from "@/lib/schemas";

/* Password reset and sign-in by code: thin adapters over lib/accounts/recovery.ts. */

const withEmail = (path: string, email: string) => `${path}?email=${encodeURIComponent(email)}`;

export async function requestPasswordResetAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = textFields(formData, ["email"]);
  const parsed = emailOnlySchema.safeParse(values);
  if (!parsed.success) return failure("invalid_input", values, { fieldErrors: fieldErrorsOf(parsed.error), message: undefined });
  const state = await guarded(values, async () => {
    const result = await (await getRecovery()).requestPasswordReset(parsed.data.email, await actionContext());
    return result.ok ? { ok: true } : refused(result, values);
  });
  if (!state.ok) return state;
  redirect(`${withEmail("/reset-password", parsed.data.email)}&sent=1`);
}

export async function resetPasswordAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = textFields(formData, ["email", "otp"]);
  const parsed = resetPasswordFormSchema(getConfig().passwordMinLength).safeParse(Object.fromEntries(formData));
  if (!parsed.success) return failure("invalid_input", values, { fieldErrors: fieldErrorsOf(parsed.error), message: undefined });
  const state = await guarded(values, async () => {
    const result = await (await getRecovery()).resetPassword(parsed.data, await actionContext());
    if (result.ok) return { ok: true };
    const refusal = refused(result, values, { what: "trying another code" });
    return result.reason === "weak_password" ? refusal : { ...refusal, fieldErrors: { otp: refusal.message! } };
  });
  if (!state.ok) return state;
  // Signed in with the new password; an account that needs more (a second factor) continues at login.
  const login = await signInWithPassword({ email: parsed.data.email, password: parsed.data.password });
  redirect(login.ok ? "/account?changed=password" : `${withEmail("/login", parsed.data.email)}&reset=1`);
}

export async function requestSignInCodeAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = textFields(formData, ["email"]);
  const parsed = emailOnlySchema.safeParse(values);
  if (!parsed.success) return failure("invalid_input", values, { fieldErrors: fieldErrorsOf(parsed.error), message: undefined });
  const state = await guarded(values, async () => {
    const result = await (await getRecovery()).requestSignInCode(parsed.data.email, await actionContext());
    return result.ok ? { ok: true } : refused(result, values);
  });
  if (!state.ok) return state;
  redirect(withEmail("/login-code/verify", parsed.data.email));
}

export async function signInWithCodeAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = textFields(formData, ["email", "otp"]);
  const parsed = verifySchema.safeParse(values);
  if (!parsed.success) return failure("invalid_input", values, { fieldErrors: fieldErrorsOf(parsed.error), message: undefined });
  const state = await guarded(values, async () => {
    const result = await signInWithEmailCode(parsed.data);
    if (result.ok) return { ok: true };
    const refusal = refused(result, values, { what: "trying another code" });
    return { ...refusal, fieldErrors: { otp: refusal.message! } };
  });
  if (!state.ok) return state;
  redirect("/account");
}
