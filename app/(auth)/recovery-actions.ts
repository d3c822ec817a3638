"use server";

import { getConfig } from "@/lib/platform/config";
import { actionContext, refused, validatedAction } from "@/lib/web/form-actions";
import { signInWithEmailCode, signInWithPassword } from "@/lib/sessions/login";
import { getRecovery } from "@/lib/platform/runtime";
import { emailOnlySchema, resetPasswordFormSchema, verifySchema } from "@/lib/schemas";

/* Password reset and sign-in by code: thin adapters over lib/accounts/recovery.ts. */

const withEmail = (path: string, email: string) => `${path}?email=${encodeURIComponent(email)}`;

export const requestPasswordResetAction = validatedAction({
  schema: emailOnlySchema,
  echo: ["email"],
  checkEchoed: true,
  run: async ({ email }, { values }) => {
    const result = await (await getRecovery()).requestPasswordReset(email, await actionContext());
    return result.ok ? { ok: true } : refused(result, values);
  },
  done: (_result, { email }) => `${withEmail("/reset-password", email)}&sent=1`,
});

export const resetPasswordAction = validatedAction({
  schema: () => resetPasswordFormSchema(getConfig().passwordMinLength),
  echo: ["email", "otp"],
  run: async (input, { values }) => {
    const result = await (await getRecovery()).resetPassword(input, await actionContext());
    return result.ok ? { ok: true } : refused(result, values, { what: "trying another code", field: "otp" });
  },
  done: async (_result, { email, password }) => {
    // Signed in with the new password; an account that needs more (a second factor) continues at login.
    const login = await signInWithPassword({ email, password });
    return login.ok ? "/account?changed=password" : `${withEmail("/login", email)}&reset=1`;
  },
});

export const requestSignInCodeAction = validatedAction({
  schema: emailOnlySchema,
  echo: ["email"],
  checkEchoed: true,
  run: async ({ email }, { values }) => {
    const result = await (await getRecovery()).requestSignInCode(email, await actionContext());
    return result.ok ? { ok: true } : refused(result, values);
  },
  done: (_result, { email }) => withEmail("/login-code/verify", email),
});

export const signInWithCodeAction = validatedAction({
  schema: verifySchema,
  echo: ["email", "otp"],
  checkEchoed: true,
  run: async (input, { values }) => {
    const result = await signInWithEmailCode(input);
    return result.ok ? { ok: true } : refused(result, values, { what: "trying another code", field: "otp" });
  },
  done: () => "/account",
});
