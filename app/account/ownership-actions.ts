"use server";

import { requireSession } from "@/lib/sessions/current-session";
import { renewCurrentSession } from "@/lib/sessions/login";
import { actionContext, passwordRefusal, refused, validatedAction } from "@/lib/web/form-actions";
import { getAccountData, getOwnSecondFactor } from "@/lib/platform/runtime";
import { disableTotpSchema, enableTotpSchema, otpOnlySchema, passwordOnlySchema } from "@/lib/schemas";

/* The person's second factor and the deletion of their account, from /account: thin adapters over lib/accounts/own-second-factor.ts and lib/accounts/account-data.ts. */

const LAST_ADMIN = "You are the last admin: make someone else an admin before deleting this account.";

export const startTotpAction = validatedAction({
  signedIn: requireSession,
  schema: passwordOnlySchema,
  run: async ({ password }, { user: { userId } }) => {
    const result = await (await getOwnSecondFactor()).start(userId, password, await actionContext());
    if (result.ok) return { ok: true };
    if (result.reason === "not_allowed") return { ok: false, message: "Two-factor authentication is already on for this account." };
    return passwordRefusal(result);
  },
  done: () => "/account?twofactor=started#two-factor",
});

export const confirmTotpAction = validatedAction({
  signedIn: requireSession,
  schema: enableTotpSchema,
  echo: ["code", "emailCode"],
  checkEchoed: true,
  run: async (input, { values, user: { userId } }) => {
    const result = await (await getOwnSecondFactor()).confirm(userId, input, await actionContext());
    if (result.ok) {
      // Turning TOTP on ended every session: this one carries on.
      await renewCurrentSession(result.user);
      return { ok: true };
    }
    if (result.reason === "wrong_code")
      return { ok: false, values, message: "That code from your app is not right.", fieldErrors: { code: "That code from your app is not right." } };
    if (result.reason === "email_code_wrong")
      return { ok: false, values, message: "That code from the email is not right.", fieldErrors: { emailCode: "That code from the email is not right." } };
    if (result.reason === "not_pending" || result.reason === "not_allowed")
      return { ok: false, values, message: "Start again: type your password to get a new code." };
    return refused(result as { reason: "expired" | "used" | "too_many_attempts" | "rate_limited"; retryAfterSeconds?: number }, values, {
      what: "trying another code",
      field: "emailCode",
    });
  },
  done: () => "/account?twofactor=on#two-factor",
});

export const disableTotpAction = validatedAction({
  signedIn: requireSession,
  schema: disableTotpSchema,
  run: async (input, { user: { userId } }) => {
    const result = await (await getOwnSecondFactor()).disable(userId, input, await actionContext());
    if (result.ok) return { ok: true };
    if (result.reason === "wrong_code") return { ok: false, message: "That code is not right.", fieldErrors: { code: "That code is not right." } };
    if (result.reason === "not_allowed") return { ok: false, message: "Two-factor authentication is not on for this account." };
    return passwordRefusal(result);
  },
  done: () => "/account?twofactor=off#two-factor",
});

export const requestDeletionAction = validatedAction({
  signedIn: requireSession,
  schema: passwordOnlySchema,
  run: async ({ password }, { user: { userId } }) => {
    const result = await (await getAccountData()).requestDeletion(userId, password, await actionContext());
    if (result.ok) return { ok: true };
    if (result.reason === "last_admin") return { ok: false, message: LAST_ADMIN };
    return passwordRefusal(result);
  },
  done: () => "/account?delete=sent#delete-account",
});

export const deleteAccountAction = validatedAction({
  signedIn: requireSession,
  schema: otpOnlySchema,
  echo: ["otp"],
  checkEchoed: true,
  run: async ({ otp }, { values, user: { userId } }) => {
    const result = await (await getAccountData()).deleteAccount(userId, otp, await actionContext());
    if (result.ok) return { ok: true };
    if (result.reason === "last_admin") return { ok: false, values, message: LAST_ADMIN };
    return refused(result as { reason: "wrong_code" | "expired" | "used" | "too_many_attempts" | "rate_limited"; retryAfterSeconds?: number }, values, {
      what: "trying another code",
      field: "otp",
    });
  },
  done: () => "/login?deleted=1",
});
