import { render } from "@react-email/components";
import type { ReactElement } from "react";
import type { CodePurpose } from "../codes";
import { CodeEmail } from "./templates/code-email";
import { NoticeEmail } from "./templates/notice-email";
import type { MailMessage } from "./mailer";

/*
 * Every message the product sends. Subjects never contain a code (they show in notification previews),
 * and messages to an address nobody has proven carry no text the requester chose.
 */

async function message(to: string, subject: string, element: ReactElement): Promise<MailMessage> {
  const [html, text] = await Promise.all([render(element), render(element, { plainText: true })]);
  return { to, subject, html, text };
}

const CODE_TEXTS: Record<CodePurpose, { subject: string; heading: string; intro: (app: string) => string; ignore: string }> = {
  verify_email: {
    subject: "verification code",
    heading: "Your verification code",
    intro: (app) => `Enter this code to confirm your email address and activate your ${app} account.`,
    ignore: "If you did not sign up, you can ignore this email: no account will be activated without this code.",
  },
  reset_password: {
    subject: "password reset code",
    heading: "Your password reset code",
    intro: (app) => `Enter this code to choose a new password for your ${app} account.`,
    ignore: "If you did not ask to reset your password, ignore this email: your password stays as it is.",
  },
  change_email: {
    subject: "code to confirm your new address",
    heading: "Confirm your new email address",
    intro: (app) => `Enter this code to make this address the login email of your ${app} account.`,
    ignore: "If you did not ask for this, ignore this email: no account will use this address without this code.",
  },
  sign_in: {
    subject: "sign-in code",
    heading: "Your sign-in code",
    intro: (app) => `Enter this code to sign in to ${app}.`,
    ignore: "If you did not try to sign in, ignore this email; nobody can sign in without this code.",
  },
};

export async function codeMessage(input: {
  purpose: CodePurpose;
  appName: string;
  to: string;
  code: string;
  validMinutes: number;
  /** A new signup for an address that had one waiting: this code carries the newly chosen details. */
  signedUpAgain?: boolean;
}): Promise<MailMessage> {
  const texts = CODE_TEXTS[input.purpose];
  const intro = input.signedUpAgain
    ? `Someone signed up again with this address and chose a new name and password. Enter this code only if that was you: it activates your ${input.appName} account with those new details.`
    : texts.intro(input.appName);
  return message(
    input.to,
    `Your ${input.appName} ${texts.subject}`,
    CodeEmail({ appName: input.appName, heading: texts.heading, intro, code: input.code, validMinutes: input.validMinutes, ignoreNote: texts.ignore }),
  );
}

/** The signup verification email (the shape the signup path and its tests use). */
export function verificationCodeMessage(input: { appName: string; to: string; code: string; validMinutes: number; signedUpAgain?: boolean }) {
  return codeMessage({ ...input, purpose: "verify_email" });
}

export type NoticeKind = "existing_account" | "password_changed" | "email_changed" | "signed_in_by_code";

const NOTICE_TEXTS: Record<NoticeKind, { subject: (app: string) => string; heading: string; paragraphs: (app: string) => string[] }> = {
  existing_account: {
    subject: (app) => `Sign-up attempt on ${app}`,
    heading: "Someone tried to sign up with your address",
    paragraphs: (app) => [
      `Someone just tried to create a new ${app} account with this email address, which already has an account.`,
      "If it was you: you already have an account, so log in instead. If you forgot your password, use “Forgot your password?” on the login page.",
      "If it was not you, you can ignore this email. Nothing about your account has changed.",
    ],
  },
  password_changed: {
    subject: (app) => `Your ${app} password was changed`,
    heading: "Your password was changed",
    paragraphs: () => [
      "The password of your account was just changed, and every other session was signed out.",
      "If you did this, there is nothing more to do. If you did not, reset your password now with “Forgot your password?” on the login page.",
    ],
  },
  email_changed: {
    subject: (app) => `Your ${app} login email was changed`,
    heading: "Your login email was changed",
    paragraphs: () => [
      "Your account now logs in with a different email address, which was just proven with a code. This address no longer works for it.",
      "If you did not do this, reply to this email or contact support right away.",
    ],
  },
  signed_in_by_code: {
    subject: (app) => `New sign-in to ${app}`,
    heading: "You signed in with an email code",
    paragraphs: () => [
      "Someone just signed in to your account with a code sent to this address.",
      "If it was not you, change your password and sign out of every session from your account page.",
    ],
  },
};

export function noticeMessage(kind: NoticeKind, input: { appName: string; to: string }): Promise<MailMessage> {
  const texts = NOTICE_TEXTS[kind];
  return message(
    input.to,
    texts.subject(input.appName),
    NoticeEmail({ appName: input.appName, heading: texts.heading, paragraphs: texts.paragraphs(input.appName) }),
  );
}
