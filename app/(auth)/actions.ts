"use server";

import { redirect } from "next/navigation";
import { signOut } from "@/lib/auth";
import { getConfig } from "@/lib/config";
import type { FormState } from "@/lib/form-state";
import { signInWithPassword } from "@/lib/login";
import { actionContext, failure, guarded, refused, textFields } from "@/lib/form-actions";
import { getAccounts } from "@/lib/runtime";
import { fieldErrorsOf, loginSchema, registerFormSchema, resendSchema, verifySchema } from "@/lib/schemas";

/* Thin adapters: parse with the shared schema, call the service, turn its result into form state or a redirect. */

const context = actionContext;
const verifyUrl = (email: string, extra = "") => `/verify?email=${encodeURIComponent(email)}${extra}`;

export async function registerAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = textFields(formData, ["name", "email"]);
  const parsed = registerFormSchema(getConfig().passwordMinLength).safeParse(Object.fromEntries(formData));
  if (!parsed.success) return failure("invalid_input", values, { fieldErrors: fieldErrorsOf(parsed.error) });
  let destination = "";
  const state = await guarded(values, async () => {
    const result = await (await getAccounts()).register(parsed.data, await context());
    if (!result.ok) return refused(result, values);
    destination = verifyUrl(result.email, result.delivery === "failed" ? "&delivery=failed" : "&delivery=sent");
    return { ok: true };
  });
  if (!state.ok) return state;
  redirect(destination);
}

export async function verifyAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = textFields(formData, ["email", "otp"]);
  const parsed = verifySchema.safeParse(values);
  if (!parsed.success) return failure("invalid_input", values, { fieldErrors: fieldErrorsOf(parsed.error), message: undefined });
  const state = await guarded(values, async () => {
    const result = await (await getAccounts()).verifyEmail(parsed.data, await context());
    if (!result.ok) {
      const state = refused(result, values, { what: "trying another code" });
      return { ...state, fieldErrors: { otp: state.message! } };
    }
    return { ok: true };
  });
  if (!state.ok) return state;
  redirect(`/login?verified=1&email=${encodeURIComponent(parsed.data.email)}`);
}

export async function resendAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = textFields(formData, ["email"]);
  const parsed = resendSchema.safeParse(values);
  if (!parsed.success) return failure("invalid_input", values, { fieldErrors: fieldErrorsOf(parsed.error) });
  const email = parsed.data.email;
  const state = await guarded(values, async () => {
    const result = await (await getAccounts()).resendCode(email, await context());
    if (!result.ok) return refused(result, values, { what: "asking for another code" });
    if (result.delivery === "failed") return failure("mail_unavailable", values);
    return {
      ok: true,
      reason: "sent",
      message: `A new code is on its way to ${email}. The code before it also still works.`,
      values,
      retryAfterSeconds: getConfig().codes.resendCooldownSeconds,
    };
  });
  return state;
}

/** From the login page: ask for a new code, then continue on the verify page, which tells how it went. */
export async function resendThenVerifyAction(formData: FormData): Promise<void> {
  const state = await resendAction({ ok: false }, formData);
  // The verify page normalises (or drops) the address itself, with the shared schema.
  const email = state.values?.email ?? "";
  const delivery = state.ok ? "sent" : state.reason === "rate_limited" ? `wait&retryAfter=${state.retryAfterSeconds}` : "failed";
  redirect(verifyUrl(email, `&delivery=${delivery}`));
}

export async function loginAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = textFields(formData, ["email", "step"]);
  const parsed = loginSchema.safeParse(Object.fromEntries(formData));
  if (!parsed.success) return failure("invalid_input", values, { fieldErrors: fieldErrorsOf(parsed.error), message: undefined });
  const result = await guarded(values, async () => {
    const outcome = await signInWithPassword(parsed.data);
    if (outcome.ok) return { ok: true };
    // Second factor (issue 6): once asked for, the code field stays, and a refusal names it too.
    const secondStep = outcome.reason === "totp_required" || values.step === "totp";
    const state = refused(outcome, { email: parsed.data.email, ...(secondStep ? { step: "totp" } : {}) });
    return secondStep && outcome.reason === "invalid_credentials" ? { ...state, message: "Invalid email, password or authentication code." } : state;
  });
  if (!result.ok) return result;
  redirect("/account");
}

export async function logoutAction(): Promise<void> {
  await signOut({ redirectTo: "/login?signedOut=1" });
}
