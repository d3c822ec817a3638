/**
 * What each outcome means to a person and to an HTTP client. Pages and the JSON API both read from here,
 * so a message or a status is decided once.
 */
export type Outcome =
  | "invalid_input"
  | "invalid_credentials"
  | "unverified"
  | "wrong_code"
  | "expired"
  | "used"
  | "too_many_attempts"
  | "rate_limited"
  | "locked"
  | "totp_required"
  | "weak_password"
  | "choose_password"
  | "no_password"
  | "email_taken"
  | "disabled"
  | "mail_unavailable"
  | "store_unavailable"
  | "busy"
  | "database_unavailable";

export const OUTCOMES: Record<Outcome, { status: number; message: string }> = {
  invalid_input: { status: 400, message: "Some details need another look." },
  invalid_credentials: { status: 401, message: "Invalid email or password." },
  unverified: {
    status: 403,
    message: "This email is not verified yet. Enter the code we emailed you, or ask for a new one.",
  },
  wrong_code: { status: 400, message: "That code is not right. Check the email and try again." },
  expired: { status: 410, message: "That code has expired. We can send you a new one." },
  used: { status: 410, message: "That code has already been used. If your account is active, log in; otherwise ask for a new code." },
  too_many_attempts: { status: 410, message: "Too many wrong tries for this code. Ask for a new code to try again." },
  rate_limited: { status: 429, message: "Too many attempts. Please wait a little and try again." },
  weak_password: { status: 400, message: "Choose a stronger password." },
  choose_password: {
    status: 400,
    message:
      "This code is being entered somewhere other than where the signup was made, so the name and password chosen there cannot apply. Choose them here to finish.",
  },
  no_password: { status: 409, message: "This account has no password yet. Choose one on your account page first." },
  email_taken: { status: 409, message: "That address cannot be used for this account. Choose another one." },
  disabled: { status: 404, message: "This way of signing in is not enabled." },
  totp_required: {
    status: 401,
    message: "Enter the code from your authenticator app (or a recovery code), with your password again.",
  },
  locked: {
    status: 423,
    message: "Password login for this account is paused after too many failed attempts. Reset your password with a code sent by email.",
  },
  mail_unavailable: {
    status: 503,
    message: "We could not send the email just now. Your details are saved: ask for a new code in a moment.",
  },
  store_unavailable: {
    status: 503,
    message: "We cannot send or check codes right now. Please try again in a moment.",
  },
  busy: { status: 503, message: "We are very busy right now. Please try again in a moment." },
  database_unavailable: {
    status: 503,
    message: "We cannot reach our account records right now. Please try again in a moment.",
  },
};

/** "Please wait 45 seconds" / "about 12 minutes" / "about 3 hours", for a Retry-After. */
export function waitMessage(retryAfterSeconds: number, what = "trying again"): string {
  const s = Math.max(1, Math.ceil(retryAfterSeconds));
  const span = s < 90 ? `${s} second${s === 1 ? "" : "s"}` : s < 90 * 60 ? `about ${Math.ceil(s / 60)} minutes` : `about ${Math.ceil(s / 3600)} hours`;
  return `Too many attempts for now. Please wait ${span} before ${what}.`;
}
