"use server";

import { requireSession } from "@/lib/sessions/current-session";
import { getConfig } from "@/lib/platform/config";
import { actionContext, passwordRefusal, refused, validatedAction } from "@/lib/web/form-actions";
import { renewCurrentSession } from "@/lib/sessions/login";
import { getAccountSettings } from "@/lib/platform/runtime";
import { changeEmailSchema, changePasswordFormSchema, choosePasswordFormSchema, otpOnlySchema } from "@/lib/schemas";

/* Changes to one's own account: thin adapters over lib/accounts/account-settings.ts. */

export const changePasswordAction = validatedAction({
  signedIn: requireSession,
  // Without a current-password field: an account choosing its first password (the service checks it has none).
  schema: (fields) => ("currentPassword" in fields ? changePasswordFormSchema : choosePasswordFormSchema)(getConfig().passwordMinLength),
  run: async (input, { user: { userId } }) => {
    const result = await (await getAccountSettings()).changePassword(userId, input, await actionContext());
    if (!result.ok) {
      const refusal = refused(result, {}, { passwordField: "newPassword" });
      return result.reason === "invalid_credentials"
        ? { ...refusal, message: "Your current password is not right.", fieldErrors: { currentPassword: "Your current password is not right." } }
        : refusal;
    }
    await renewCurrentSession(result.user);
    return { ok: true };
  },
  // A fresh request, so the page reads the renewed cookie: re-rendering /account within this action would
  // read the request's old cookie, find its session ended, and send the person to /login.
  done: () => "/account?changed=password",
});

export const requestEmailChangeAction = validatedAction({
  signedIn: requireSession,
  schema: changeEmailSchema,
  echo: ["newEmail"],
  run: async (input, { values, user: { userId } }) => {
    const result = await (await getAccountSettings()).requestEmailChange(userId, input, await actionContext());
    return result.ok ? { ok: true } : passwordRefusal(result, values);
  },
  done: (_result, { newEmail }) => `/account/email?to=${encodeURIComponent(newEmail)}`,
});

export const confirmEmailChangeAction = validatedAction({
  signedIn: requireSession,
  schema: otpOnlySchema,
  echo: ["otp"],
  checkEchoed: true,
  run: async (input, { values, user: { userId } }) => {
    const result = await (await getAccountSettings()).confirmEmailChange(userId, input, await actionContext());
    if (!result.ok) return refused(result, values, { what: "trying another code", field: "otp" });
    await renewCurrentSession(result.user);
    return { ok: true };
  },
  done: () => "/account?changed=email",
});
