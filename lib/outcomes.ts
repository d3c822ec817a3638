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
  | "mail_unavailable"
  | "store_unavailable";

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
  rate_limited: { status: 429, message: "Please wait a moment before trying again." },
  mail_unavailable: {
    status: 503,
    message: "We could not send the email just now. Your details are saved: ask for a new code in a moment.",
  },
  store_unavailable: {
    status: 503,
    message: "We cannot send or check codes right now. Please try again in a moment.",
  },
};

export function waitMessage(retryAfterSeconds: number): string {
  return retryAfterSeconds > 1
    ? `Please wait ${retryAfterSeconds} seconds before asking for another code.`
    : "Please wait a second before asking for another code.";
}
