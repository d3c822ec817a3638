"use server";

import { redirect } from "next/navigation";
import { signOut } from "@/lib/sessions/auth";
import { getConfig } from "@/lib/platform/config";
import type { FormState } from "@/lib/web/form-state";
import { signInWithPassword } from "@/lib/sessions/login";
import { actionContext, failure, guarded, refused, textFields } from "@/lib/web/form-actions";
import { getAccounts, getPasskeys } from "@/lib/platform/runtime";
import type { SendReport } from "@/lib/accounts/accounts";
import { registrationFromCookie, rememberRegistration } from "@/lib/accounts/registration-cookie";
import { fieldErrorsOf, loginSchema, registerFormSchema, resendSchema, verifyChoosingFormSchema, verifySchema } from "@/lib/schemas";

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
    // This browser made this signup: with the code, its details apply here in one step.
    await rememberRegistration(result.registration);
    destination = verifyUrl(result.email, deliveryQuery(result));
    return { ok: true };
  });
  if (!state.ok) return state;
  redirect(destination);
}

/** How the verify page hears how the send went (it shows a countdown for "wait"). */
function deliveryQuery(report: SendReport): string {
  return report.delivery === "wait" ? `&delivery=wait&retryAfter=${report.retryAfterSeconds}` : `&delivery=${report.delivery}`;
}

export async function verifyAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = textFields(formData, ["email", "otp", "name", "choosing"]);
  const choosing = values.choosing === "1";
  const minLength = getConfig().passwordMinLength;
  const parsed = (choosing ? verifyChoosingFormSchema(minLength) : verifySchema).safeParse(Object.fromEntries(formData));
  if (!parsed.success) return failure("invalid_input", values, { fieldErrors: fieldErrorsOf(parsed.error), message: undefined });
  const input = { ...parsed.data, registration: choosing ? undefined : await registrationFromCookie() };
  let signIn = false;
  const state = await guarded(values, async () => {
    const result = await (await getAccounts()).verifyEmail(input, await context());
    if (!result.ok) {
      // Not this browser's signup: the page asks for a name and password beside the code.
      if (result.reason === "choose_password") return failure("choose_password", { ...values, choosing: "1" });
      const state = refused(result, values, { what: "trying another code" });
      return result.reason === "weak_password" ? state : { ...state, fieldErrors: { otp: state.message! } };
    }
    signIn = result.signIn;
    // The first visit to /account after this offers a passkey, once.
    await (await getPasskeys()).offerAfterVerification(result.user.id);
    return { ok: true };
  });
  if (!state.ok) return state;
  // The registration cookie stays until it expires: inert now, and a repeated submit then hears "used".
  const email = parsed.data.email;
  // Whoever chose the password just now proved the inbox too: they go straight in.
  const password = choosing ? (parsed.data as unknown as { password: string }).password : "";
  if (signIn && password && (await signInWithPassword({ email, password })).ok) redirect("/account");
  redirect(`/login?verified=1&email=${encodeURIComponent(email)}`);
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
  const state = await guarded(values, async () => {
    const result = await signInWithPassword(parsed.data);
    if (result.ok) return { ok: true };
    // Second factor: once asked for, the code field stays, and a refusal names it too.
    const secondStep = result.reason === "totp_required" || values.step === "totp";
    const refusal = refused(result, { email: parsed.data.email, ...(secondStep ? { step: "totp" } : {}) });
    return secondStep && result.reason === "invalid_credentials" ? { ...refusal, message: "Invalid email, password or authentication code." } : refusal;
  });
  if (!state.ok) return state;
  redirect("/account");
}

export async function logoutAction(): Promise<void> {
  await signOut({ redirectTo: "/login?signedOut=1" });
}
