import { render } from "@react-email/components";
import { CodeEmail } from "./templates/code-email";
import { NoticeEmail } from "./templates/notice-email";
import type { MailMessage } from "./mailer";

/** Builds the verification email. The subject never contains the code: it would show in notification previews. */
export async function verificationCodeMessage(input: {
  appName: string;
  to: string;
  code: string;
  validMinutes: number;
  /** The code was requested by a new signup for an address that had one waiting: it carries new details. */
  signedUpAgain?: boolean;
}): Promise<MailMessage> {
  const element = CodeEmail({
    appName: input.appName,
    heading: "Your verification code",
    intro: input.signedUpAgain
      ? `Someone signed up again with this address and chose a new name and password. Enter this code only if that was you: it activates your ${input.appName} account with those new details.`
      : `Enter this code to confirm your email address and activate your ${input.appName} account.`,
    code: input.code,
    validMinutes: input.validMinutes,
    ignoreNote: "If you did not sign up, you can ignore this email: no account will be activated without this code.",
  });
  const [html, text] = await Promise.all([render(element), render(element, { plainText: true })]);
  return { to: input.to, subject: `Your ${input.appName} verification code`, html, text };
}

/**
 * Sent instead of a code when someone signs up with an address that already has a verified account:
 * the owner learns of it, the person at the form learns nothing.
 */
export async function existingAccountNoticeMessage(input: { appName: string; to: string }): Promise<MailMessage> {
  const element = NoticeEmail({
    appName: input.appName,
    heading: "Someone tried to sign up with your address",
    paragraphs: [
      `Someone just tried to create a new ${input.appName} account with this email address, which already has an account.`,
      "If it was you: you already have an account, so log in instead. If you forgot your password, use “Forgot your password?” on the login page.",
      "If it was not you, you can ignore this email. Nothing about your account has changed.",
    ],
  });
  const [html, text] = await Promise.all([render(element), render(element, { plainText: true })]);
  return { to: input.to, subject: `Sign-up attempt on ${input.appName}`, html, text };
}
