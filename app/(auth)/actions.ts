"use server";

import { redirect } from "next/navigation";
import { signOut } from "@/lib/sessions/auth";
import { getConfig } from "@/lib/platform/config";
import type * as z from "zod/mini";
import { signInWithPassword } from "@/lib/sessions/login";
import { actionContext, failure, refused, validatedAction } from "@/lib/web/form-actions";
import { getAccounts, getPasskeys } from "@/lib/platform/runtime";
import type { SendReport } from "@/lib/accounts/accounts";
import { registrationFromCookie, rememberRegistration } from "@/lib/accounts/registration-cookie";
import {
  loginSchema,
  registerFormSchema,
  resendSchema,
  verifyChoosingFormSchema,
  verifySchema,
  type VerifyChoosingFormInput,
  type VerifyFormInput,
} from "@/lib/schemas";

/* Thin adapters: parse with the shared schema, call the service, turn its result into form state or a redirect. */

const context = actionContext;
const verifyUrl = (email: string, extra = "") => `/verify?email=${encodeURIComponent(email)}${extra}`;

export const registerAction = validatedAction({
  schema: () => registerFormSchema(getConfig().passwordMinLength),
  echo: ["name", "email"],
  invalidMessage: true,
  run: async (input, { values }) => {
    const result = await (await getAccounts()).register(input, await context());
    if (!result.ok) return refused(result, values);
    // This browser made this signup: with the code, its details apply here in one step.
    await rememberRegistration(result.registration);
    return { ok: true, destination: verifyUrl(result.email, deliveryQuery(result)) };
  },
  done: ({ destination }) => destination,
});

/** How the verify page hears how the send went (it shows a countdown for "wait"). */
function deliveryQuery(report: SendReport): string {
  return report.delivery === "wait" ? `&delivery=wait&retryAfter=${report.retryAfterSeconds}` : `&delivery=${report.delivery}`;
}

export const verifyAction = validatedAction({
  schema: (_fields, values): z.ZodMiniType<VerifyFormInput & Partial<VerifyChoosingFormInput>> =>
    values.choosing === "1" ? verifyChoosingFormSchema(getConfig().passwordMinLength) : verifySchema,
  echo: ["email", "otp", "name", "choosing"],
  run: async (parsed, { values }) => {
    const choosing = values.choosing === "1";
    const input = { ...parsed, registration: choosing ? undefined : await registrationFromCookie() };
    const result = await (await getAccounts()).verifyEmail(input, await context());
    if (!result.ok) {
      // Not this browser's signup: the page asks for a name and password beside the code.
      if (result.reason === "choose_password") return failure("choose_password", { ...values, choosing: "1" });
      return refused(result, values, { what: "trying another code", field: "otp" });
    }
    // The first visit to /account after this offers a passkey, once.
    await (await getPasskeys()).offerAfterVerification(result.user.id);
    return { ok: true, signIn: result.signIn };
  },
  done: async ({ signIn }, { email, password }, { values }) => {
    // The registration cookie stays until it expires: inert now, and a repeated submit then hears "used".
    // Whoever chose the password just now proved the inbox too: they go straight in.
    if (signIn && values.choosing === "1" && password && (await signInWithPassword({ email, password })).ok) return "/account";
    return `/login?verified=1&email=${encodeURIComponent(email)}`;
  },
});

export const resendAction = validatedAction({
  schema: resendSchema,
  echo: ["email"],
  checkEchoed: true,
  invalidMessage: true,
  run: async ({ email }, { values }) => {
    const result = await (await getAccounts()).resendCode(email, await context());
    if (!result.ok) return refused(result, values, { what: "asking for another code" });
    if (result.delivery === "failed") return failure("mail_unavailable", values);
    return {
      ok: true,
      reason: "sent",
      message: `A new code is on its way to ${email}. The code before it also still works.`,
      values,
      retryAfterSeconds: getConfig().codes.resendCooldownSeconds,
    } as const;
  },
});

/** From the login page: ask for a new code, then continue on the verify page, which tells how it went. */
export async function resendThenVerifyAction(formData: FormData): Promise<void> {
  const state = await resendAction({ ok: false }, formData);
  // The verify page normalises (or drops) the address itself, with the shared schema.
  const email = state.values?.email ?? "";
  const delivery = state.ok ? "sent" : state.reason === "rate_limited" ? `wait&retryAfter=${state.retryAfterSeconds}` : "failed";
  redirect(verifyUrl(email, `&delivery=${delivery}`));
}

export const loginAction = validatedAction({
  schema: loginSchema,
  echo: ["email", "step"],
  run: async (input, { values }) => {
    const result = await signInWithPassword(input);
    if (result.ok) return { ok: true };
    // Second factor: once asked for, the code field stays, and a refusal names it too.
    const secondStep = result.reason === "totp_required" || values.step === "totp";
    const refusal = refused(result, { email: input.email, ...(secondStep ? { step: "totp" } : {}) });
    return secondStep && result.reason === "invalid_credentials" ? { ...refusal, message: "Invalid email, password or authentication code." } : refusal;
  },
  done: () => "/account",
});

export async function logoutAction(): Promise<void> {
  await signOut({ redirectTo: "/login?signedOut=1" });
}
