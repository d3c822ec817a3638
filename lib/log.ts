/**
 * Structured auth events, one JSON line each. Callers pass ids and outcomes only: never a code,
 * a password, a hash, a token or an email body.
 */
export type AuthEvent =
  | "registered"
  | "register_existing"
  | "code_sent"
  | "code_send_failed"
  | "verified"
  | "verify_failed"
  | "login_ok"
  | "login_failed"
  | "login_inactive"
  | "rate_limited"
  | "store_unavailable"
  | "reset_requested"
  | "password_reset"
  | "password_changed"
  | "email_change_requested"
  | "email_changed";

export function logAuthEvent(event: AuthEvent, fields: Record<string, string | number | boolean | undefined> = {}): void {
  console.info(JSON.stringify({ at: new Date().toISOString(), event, ...fields }));
}
