import "server-only";
import type { ReactElement } from "react";
import type { CodePurpose } from "../codes/codes";
import { CodeEmail } from "./templates/code-email";
import { NoticeEmail } from "./templates/notice-email";
import type { MailMessage } from "./mailer";

/*
 * Every message the product sends. Subjects never contain a code (they show in notification previews),
 * and messages to an address nobody has proven carry no text the requester chose.
 */

interface RenderedBody {
  html: string;
  text: string;
}

export async function renderBody(element: ReactElement): Promise<RenderedBody> {
  // Loaded with the first message, not with every route that could send one (a login sends none).
  const { render } = await import("@react-email/render");
  const [html, text] = await Promise.all([render(element), render(element, { plainText: true })]);
  return { html, text };
}

/*
 * Rendering (React Email, then html-to-text) costs a few ms of main-thread CPU per message, and the
 * bodies differ only by the code. Each distinct body is rendered once, with CODE_SLOT where the code
 * goes, and the code is put in per message. The cache is keyed by every other input, which come from
 * fixed texts and configuration, so it stays small; it is bounded anyway.
 */
const CODE_SLOT = "QZXQZX";
const MAX_CACHED_BODIES = 64;
const renderedBodies = new Map<string, Promise<RenderedBody>>();

function cachedBody(key: string, build: () => ReactElement): Promise<RenderedBody> {
  let body = renderedBodies.get(key);
  if (!body) {
    if (renderedBodies.size >= MAX_CACHED_BODIES) renderedBodies.clear();
    body = renderBody(build());
    renderedBodies.set(key, body);
    // A failed render is not kept: the next message tries again.
    body.catch(() => renderedBodies.delete(key));
  }
  return body;
}

function occursOnce(haystack: string, needle: string): boolean {
  const first = haystack.indexOf(needle);
  return first !== -1 && haystack.indexOf(needle, first + needle.length) === -1;
}

/** The body with the code in it: the cached rendering when the slot sits in it exactly once, else a fresh render. */
async function bodyWithCode(key: string, build: (code: string) => ReactElement, code: string): Promise<RenderedBody> {
  const body = await cachedBody(key, () => build(CODE_SLOT));
  if (!/^\d+$/.test(code) || !occursOnce(body.html, CODE_SLOT) || !occursOnce(body.text, CODE_SLOT)) return renderBody(build(code));
  return { html: body.html.replace(CODE_SLOT, code), text: body.text.replace(CODE_SLOT, code) };
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
  enable_totp: {
    subject: "code to turn on two-factor authentication",
    heading: "Turn on two-factor authentication",
    intro: (app) => `Enter this code to add an authenticator app to your ${app} account.`,
    ignore: "If you did not ask for this, someone knows your password: change it now. Nothing is added without this code.",
  },
  delete_account: {
    subject: "code to delete your account",
    heading: "Delete your account",
    intro: (app) => `Enter this code to delete your ${app} account and everything it holds, for good.`,
    ignore: "If you did not ask for this, someone knows your password: change it now. Nothing is deleted without this code.",
  },
};

/** What led to a code: the email names it with its time, so a reader can tell their own request from someone else's. */
export type CodeOccasion = "signup" | "resend" | "sign_in_unverified";

export interface CodeMessageInput {
  purpose: CodePurpose;
  appName: string;
  to: string;
  code: string;
  validMinutes: number;
  occasion?: CodeOccasion;
  /** When the code was issued (ms since the epoch); shown with the occasion. */
  at?: number;
}

/** "2026-12-01 14:02 UTC": a reader compares it with when they signed up. */
export function mailTime(at: number): string {
  return `${new Date(at).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function occasionIntro(occasion: CodeOccasion, appName: string, time: string): string {
  switch (occasion) {
    case "signup":
      return `Someone signed up for ${appName} with this address at ${time}. If that was you, enter this code to confirm your address and activate your account.`;
    case "resend":
      return `A new code to confirm this address for ${appName} was asked for at ${time}. If that was you, enter this code to activate your account.`;
    case "sign_in_unverified":
      return `Someone asked at ${time} to sign in to ${appName} with this address, which has not been confirmed yet. If that was you, enter this code: it confirms the address and signs you in, and you then choose your password.`;
  }
}

const UNPROVEN_IGNORE =
  "If it was not you, ignore this email: nothing happens without this code, and no password chosen by someone who cannot read this inbox will ever work.";

/** The code email as an element, rendered afresh (codeMessage renders it once per distinct body). */
export function codeEmailElement(input: Omit<CodeMessageInput, "to">): ReactElement {
  const texts = CODE_TEXTS[input.purpose];
  const occasion = input.occasion && input.at !== undefined ? input.occasion : undefined;
  const intro = occasion ? occasionIntro(occasion, input.appName, mailTime(input.at!)) : texts.intro(input.appName);
  const ignoreNote = occasion ? UNPROVEN_IGNORE : texts.ignore;
  return CodeEmail({ appName: input.appName, heading: texts.heading, intro, code: input.code, validMinutes: input.validMinutes, ignoreNote });
}

export async function codeMessage(input: CodeMessageInput): Promise<MailMessage> {
  const time = input.occasion && input.at !== undefined ? mailTime(input.at) : "";
  const key = JSON.stringify(["code", input.purpose, input.appName, input.validMinutes, input.occasion ?? "", time]);
  const body = await bodyWithCode(key, (code) => codeEmailElement({ ...input, code }), input.code);
  return { to: input.to, subject: `Your ${input.appName} ${CODE_TEXTS[input.purpose].subject}`, ...body };
}

/** The signup verification email (the shape the signup path and its tests use). */
export function verificationCodeMessage(input: { appName: string; to: string; code: string; validMinutes: number; occasion?: CodeOccasion; at?: number }) {
  return codeMessage({ ...input, purpose: "verify_email" });
}

export type NoticeKind =
  | "existing_account"
  | "password_changed"
  | "email_changed"
  | "signed_in_by_code"
  | "second_factor_failures"
  | "account_deleted"
  | "passkey_added"
  | "passkey_removed";

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
  second_factor_failures: {
    subject: (app) => `Wrong authenticator codes on your ${app} account`,
    heading: "Someone entered wrong authenticator codes",
    paragraphs: () => [
      "Your password was just entered correctly, followed by several wrong codes from your authenticator app. Nobody signed in.",
      "If this was you, there is nothing more to do. If it was not, someone knows your password: change it now, and tell an administrator.",
    ],
  },
  signed_in_by_code: {
    subject: (app) => `New sign-in to ${app}`,
    heading: "You signed in with an email code",
    paragraphs: () => [
      "Someone just signed in to your account with a code sent to this address.",
      "Your account page lists every device signed in to your account (/account#sessions): you can end any you do not recognise there.",
      "If it was not you, reset your password now with “Forgot your password?” on the login page: a reset ends every session.",
    ],
  },
  account_deleted: {
    subject: (app) => `Your ${app} account was deleted`,
    heading: "Your account was deleted",
    paragraphs: (app) => [
      `Your ${app} account was deleted just now, with its password and a code sent to this address. Every session was signed out.`,
      "We no longer hold your name, this address, your sessions or your second factor. The security log keeps only anonymous entries.",
      "You can sign up again with this address at any time.",
    ],
  },
  passkey_added: {
    subject: (app) => `A passkey was added to your ${app} account`,
    heading: "A passkey was added to your account",
    paragraphs: () => [
      "A new passkey can now sign in to your account. You can see, rename and remove your passkeys on your account page.",
      "If you did not add it, remove it there right away and change your password.",
    ],
  },
  passkey_removed: {
    subject: (app) => `A passkey was removed from your ${app} account`,
    heading: "A passkey was removed from your account",
    paragraphs: () => [
      "One of your passkeys was removed from your account and can no longer sign in.",
      "If you did not remove it, sign in and check your account page, and change your password.",
    ],
  },
};

export async function noticeMessage(kind: NoticeKind, input: { appName: string; to: string }): Promise<MailMessage> {
  const texts = NOTICE_TEXTS[kind];
  const body = await cachedBody(JSON.stringify(["notice", kind, input.appName]), () =>
    NoticeEmail({ appName: input.appName, heading: texts.heading, paragraphs: texts.paragraphs(input.appName) }),
  );
  return { to: input.to, subject: texts.subject(input.appName), ...body };
}
