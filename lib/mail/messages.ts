import { render } from "@react-email/components";
import { CodeEmail } from "./templates/code-email";
import type { MailMessage } from "./mailer";

/** Builds the verification email. The subject never contains the code: it would show in notification previews. */
export async function verificationCodeMessage(input: {
  appName: string;
  to: string;
  code: string;
  validMinutes: number;
}): Promise<MailMessage> {
  const element = CodeEmail({
    appName: input.appName,
    heading: "Your verification code",
    intro: `Enter this code to confirm your email address and activate your ${input.appName} account.`,
    code: input.code,
    validMinutes: input.validMinutes,
    ignoreNote: "If you did not sign up, you can ignore this email: no account will be activated without this code.",
  });
  const [html, text] = await Promise.all([render(element), render(element, { plainText: true })]);
  return { to: input.to, subject: `Your ${input.appName} verification code`, html, text };
}
