import "server-only";
/**
 * Structured auth events, one JSON line each. Callers pass ids and outcomes only: never a code,
 * a password, a hash, a token or an email body.
 */
export type AuthEvent =
  | "registered"
  | "register_existing"
  | "code_sent"
  | "code_send_failed"
  | "code_send_deferred"
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
  | "email_changed"
  | "code_guessing_alarm"
  | "second_factor_notice"
  // Roles, second factor and the admin area.
  | "login_second_factor_required"
  | "totp_enrolled"
  | "totp_enrolment_failed"
  | "totp_replay_refused"
  | "totp_unreadable"
  | "totp_reset"
  | "recovery_code_used"
  | "admin_created"
  | "admin_promoted"
  | "admin_reclaimed"
  | "enrolment_code_issued"
  | "role_changed"
  | "account_deactivated"
  | "account_reactivated"
  | "sessions_revoked"
  | "admin_forbidden"
  // The owner's own sessions, second factor and account.
  | "session_ended_by_owner"
  | "other_sessions_ended_by_owner"
  | "totp_disabled"
  | "account_deleted"
  | "data_exported"

  // Passkeys (lib/credentials/passkeys.ts).
  | "passkey_added"
  | "passkeys_removed"
  | "passkey_add_failed"
  | "passkey_renamed"
  | "passkey_removed"
  | "passkey_counter_refused";

export type AuthEventFields = Record<string, string | number | boolean | undefined>;

/** Where events go besides the log line: the auth_events table (lib/platform/audit.ts), installed by lib/platform/runtime.ts. */
export type AuthEventSink = (event: AuthEvent, fields: AuthEventFields, at: Date) => void;
const sinkHolder = globalThis as { __authEventSink?: AuthEventSink };

export function setAuthEventSink(sink: AuthEventSink | undefined): void {
  sinkHolder.__authEventSink = sink;
}

export function logAuthEvent(event: AuthEvent, fields: AuthEventFields = {}): void {
  const at = new Date();
  console.info(JSON.stringify({ at: at.toISOString(), event, ...fields }));
  try {
    sinkHolder.__authEventSink?.(event, fields, at);
  } catch {
    // The audit sink never fails a request; it counts its own failures (lib/platform/audit.ts).
  }
}
