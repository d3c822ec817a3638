import * as z from "zod/mini";
import { PASSWORD_MAX_LENGTH, withoutSeparators } from "./form-rules";

/**
 * The input schemas, shared by the browser forms (react-hook-form) and the server (actions and API routes).
 * zod/mini keeps them small enough for the client bundle. Unknown keys are dropped, so a signup can never
 * carry a role or an active flag.
 */

const codePoints = (value: string) => [...value].length;

/**
 * Each schema that depends on the configured minimum is built once per value and reused: building one costs
 * more than parsing with it (`npm run bench -- --profile`), and every request parses.
 */
function perMinLength<S>(build: (passwordMinLength: number) => S): (passwordMinLength: number) => S {
  const built = new Map<number, S>();
  return (passwordMinLength) => {
    let schema = built.get(passwordMinLength);
    if (!schema) built.set(passwordMinLength, (schema = build(passwordMinLength)));
    return schema;
  };
}

export const emailSchema = z
  .string({ error: "Enter your email address." })
  .check(
    z.trim(),
    z.toLowerCase(),
    z.minLength(1, "Enter your email address."),
    z.maxLength(254, "That email address is too long."),
    z.email({ error: "Enter a valid email address, like name@example.com." }),
  );

/** Counted in Unicode code points after NFC normalisation; spaces allowed; no composition rules (NIST SP 800-63B). */
export function passwordSchema(minLength: number) {
  return z.string({ error: "Enter a password." }).check(
    // Bounds the work below before normalising a hostile multi-megabyte string.
    z.maxLength(PASSWORD_MAX_LENGTH * 4, `Use at most ${PASSWORD_MAX_LENGTH} characters.`),
    z.normalize("NFC"),
    z.refine((v) => codePoints(v) >= minLength, { error: `Use at least ${minLength} characters.` }),
    z.refine((v) => codePoints(v) <= PASSWORD_MAX_LENGTH, { error: `Use at most ${PASSWORD_MAX_LENGTH} characters.` }),
  );
}

export const nameSchema = z.string({ error: "Enter your name." }).check(
  z.trim(),
  z.minLength(1, "Enter your name."),
  z.maxLength(100, "Use at most 100 characters."),
  z.refine((v) => !/\p{Cc}/u.test(v), { error: "Remove the control characters from your name." }),
  // Bidirectional overrides and isolates can make a name shown to staff or in mail read as something else.
  z.refine((v) => !/[\u202A-\u202E\u2066-\u2069]/.test(v), { error: "Remove the text-direction control characters from your name." }),
);

export const otpSchema = z
  .string({ error: "Enter the 6-digit code." })
  .check(z.maxLength(64, "Enter the 6-digit code."), z.overwrite(withoutSeparators), z.regex(/^\d{6}$/, "Enter the 6-digit code from the email."));

export const registerSchema = perMinLength((passwordMinLength: number) => {
  return z.object({ name: nameSchema, email: emailSchema, password: passwordSchema(passwordMinLength) });
});

/** The signup form adds a confirmation field; the JSON API does not need one. */
export const registerFormSchema = perMinLength((passwordMinLength: number) => {
  return z
    .object({
      name: nameSchema,
      email: emailSchema,
      password: passwordSchema(passwordMinLength),
      passwordConfirmation: z.string({ error: "Repeat your password." }),
    })
    .check(
      z.refine((v) => v.password === v.passwordConfirmation.normalize("NFC"), {
        error: "The passwords do not match.",
        path: ["passwordConfirmation"],
      }),
    );
});

/** The code alone: what a signup's own client sends (its registration token comes from a cookie). */
export const verifySchema = z.object({ email: emailSchema, otp: otpSchema });

/**
 * What the server accepts for verification: the code with the signup's registration token, or, from
 * anywhere else, the code with the name and password the verifier chooses (lib/accounts/registrations.ts).
 */
export const verifyInputSchema = perMinLength((passwordMinLength: number) => {
  return z.object({
    email: emailSchema,
    otp: otpSchema,
    registration: z.optional(z.string().check(z.maxLength(64, "That registration token is not valid."))),
    name: z.optional(nameSchema),
    password: z.optional(passwordSchema(passwordMinLength)),
  });
});

/** The verify form where the browser did not make the signup: the code, a name and a password typed twice. */
export const verifyChoosingFormSchema = perMinLength((passwordMinLength: number) => {
  return withConfirmation({ email: emailSchema, otp: otpSchema, name: nameSchema, password: passwordSchema(passwordMinLength) }, "password");
});
/** Resend, reset and sign-in-code requests all take just an address. */
export const emailOnlySchema = z.object({ email: emailSchema });
export const resendSchema = emailOnlySchema;

/** Login checks only presence and bounds: rules for new passwords must not lock out existing ones. */
export const loginSchema = z.object({
  email: emailSchema,
  password: z
    .string({ error: "Enter your password." })
    .check(z.minLength(1, "Enter your password."), z.maxLength(PASSWORD_MAX_LENGTH * 4, "That password is too long."), z.normalize("NFC")),
  /** Staff and admin with a second factor: a 6-digit code from the authenticator app, or a recovery code (lib/credentials/totp.ts). */
  totp: z.optional(z.string().check(z.trim(), z.maxLength(32, "That code is too long."))),
});

/** A new password typed twice (reset and change); the confirmation is a form concern only. */
function withConfirmation<T extends Record<string, z.ZodMiniType>>(shape: T, field: keyof T & string) {
  return z.object({ ...shape, passwordConfirmation: z.string({ error: "Repeat your new password." }) }).check(
    z.refine((v) => (v as Record<string, string>)[field] === (v as { passwordConfirmation: string }).passwordConfirmation.normalize("NFC"), {
      error: "The passwords do not match.",
      path: ["passwordConfirmation"],
    }),
  );
}

export const resetPasswordSchema = perMinLength((passwordMinLength: number) => {
  return z.object({ email: emailSchema, otp: otpSchema, password: passwordSchema(passwordMinLength) });
});
export const resetPasswordFormSchema = perMinLength((passwordMinLength: number) => {
  return withConfirmation({ email: emailSchema, otp: otpSchema, password: passwordSchema(passwordMinLength) }, "password");
});

const currentPasswordSchema = z
  .string({ error: "Enter your current password." })
  .check(z.minLength(1, "Enter your current password."), z.maxLength(PASSWORD_MAX_LENGTH * 4, "That password is too long."), z.normalize("NFC"));

/** currentPassword may be left out only by an account that has none yet (the service decides). */
export const changePasswordSchema = perMinLength((passwordMinLength: number) => {
  return z.object({ currentPassword: z.optional(currentPasswordSchema), newPassword: passwordSchema(passwordMinLength) });
});
export const changePasswordFormSchema = perMinLength((passwordMinLength: number) => {
  return withConfirmation({ currentPassword: currentPasswordSchema, newPassword: passwordSchema(passwordMinLength) }, "newPassword");
});

/** An account without a password (it proved its address by a code) chooses its first one: no current password. */
export const choosePasswordFormSchema = perMinLength((passwordMinLength: number) => {
  return withConfirmation({ newPassword: passwordSchema(passwordMinLength) }, "newPassword");
});

export const changeEmailSchema = z.object({ newEmail: emailSchema, password: currentPasswordSchema });
export const otpOnlySchema = z.object({ otp: otpSchema });
export const passwordOnlySchema = z.object({ password: currentPasswordSchema });
/** The sessionId that asks to end every session but the one in use. */
export const EVERY_OTHER_SESSION = "others";
/** Ending another device's session (`sessionId`), or every other one (EVERY_OTHER_SESSION): the password again. */
export const endSessionSchema = z.object({ password: currentPasswordSchema, sessionId: z.string().check(z.minLength(1), z.maxLength(64)) });
/** Turning a customer's TOTP on: the app's code and the code mailed to the address. */
export const enableTotpSchema = z.object({ code: otpSchema, emailCode: otpSchema });
export const disableTotpSchema = z.object({
  password: currentPasswordSchema,
  code: z
    .string({ error: "Enter a code from your app." })
    .check(z.trim(), z.minLength(6, "Enter a code from your app."), z.maxLength(32, "That code is too long.")),
});

export const passkeyNameSchema = z.object({
  name: z.string({ error: "Give the passkey a name." }).check(
    z.trim(),
    z.minLength(1, "Give the passkey a name."),
    z.maxLength(64, "Use at most 64 characters."),
    z.refine((v) => !/[\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(v), { error: "Remove the control characters from the name." }),
  ),
});

export type RegisterInput = z.infer<ReturnType<typeof registerSchema>>;
export type RegisterFormInput = z.input<ReturnType<typeof registerFormSchema>>;
export type VerifyInput = z.infer<ReturnType<typeof verifyInputSchema>>;
export type VerifyFormInput = z.input<typeof verifySchema>;
export type VerifyChoosingFormInput = z.input<ReturnType<typeof verifyChoosingFormSchema>>;
export type LoginInput = z.infer<typeof loginSchema>;

/** Field errors as { field: firstMessage }, the shape forms and the JSON API both report. */
export function fieldErrorsOf(error: z.core.$ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? String(issue.path[0]) : "form";
    fields[key] ??= issue.message;
  }
  return fields;
}
