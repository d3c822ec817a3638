import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const ROLES = ["customer", "staff", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    /** Trimmed and lower-cased before it gets here; unique by the index below. */
    email: text("email").notNull(),
    name: text("name").notNull(),
    /** Argon2id PHC string, or NO_PASSWORD: an unverified account, or one verified by a code that has not chosen one yet. */
    passwordHash: text("password_hash").notNull(),
    role: text("role", { enum: ROLES }).notNull().default("customer"),
    isActive: integer("is_active", { mode: "boolean" }).notNull().default(false),
    emailVerifiedAt: integer("email_verified_at", { mode: "timestamp_ms" }),
    /** Bumped whenever every existing session of the user must end. */
    sessionVersion: integer("session_version").notNull().default(0),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull().default(sql`(unixepoch('subsec') * 1000)`),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull().default(sql`(unixepoch('subsec') * 1000)`),
  },
  (table) => [uniqueIndex("users_email_unique").on(table.email)],
);

export type User = typeof users.$inferSelect;

/** The password_hash of an account without a password: no password verifies against it. */
export const NO_PASSWORD = "";

// ---- Second factor and audit log (roles and admin; lib/credentials/totp.ts, lib/platform/audit.ts) -----------------------------

/** One authenticator app per staff/admin account. Enabled once confirmedAt is set. */
export const totpCredentials = sqliteTable("totp_credentials", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  /** AES-256-GCM ciphertext of the base32 secret, bound to the user id (lib/credentials/totp.ts); never the secret itself. */
  secretCiphertext: text("secret_ciphertext").notNull(),
  /** While enrolment is pending: the recovery codes to show, encrypted the same way; null once confirmed (then only hashes remain). */
  pendingRecoveryCodes: text("pending_recovery_codes"),
  confirmedAt: integer("confirmed_at", { mode: "timestamp_ms" }),
  /** The newest RFC 6238 time-step accepted: a code of this step or an earlier one is refused (no replay). */
  lastUsedStep: integer("last_used_step"),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull().default(sql`(unixepoch('subsec') * 1000)`),
});

/** One-time recovery codes, stored as keyed hashes; usedAt is set once, atomically. */
export const recoveryCodes = sqliteTable(
  "recovery_codes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    usedAt: integer("used_at", { mode: "timestamp_ms" }),
  },
  (table) => [uniqueIndex("recovery_codes_user_hash").on(table.userId, table.codeHash)],
);

/**
 * The append-only audit log (triggers refuse UPDATE and DELETE): what happened, when, to which account,
 * with what outcome. Never an email address, a password, a code, a hash or a token. No foreign key:
 * events outlive the accounts they mention.
 */
export const authEvents = sqliteTable(
  "auth_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    event: text("event").notNull(),
    userId: text("user_id"),
    outcome: text("outcome"),
    /** JSON object of the event's other non-secret fields (lib/platform/audit.ts filters them). */
    detail: text("detail"),
  },
  (table) => [index("auth_events_event_at").on(table.event, table.at), index("auth_events_user").on(table.userId)],
);

export type TotpCredential = typeof totpCredentials.$inferSelect;
export type AuthEventRow = typeof authEvents.$inferSelect;

/**
 * The one-time code `npm run create-admin` prints for a staff/admin account's authenticator enrolment (lib/credentials/staff-enrolment.ts):
 * a keyed hash, never the code. Kept in the database rather than the code store: the command line and the app always
 * share the database, while the store may be a dev server's in-process memory, and a code meant to last days must not
 * sit in a cache that may evict it.
 */
export const staffEnrolmentCodes = sqliteTable("staff_enrolment_codes", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  codeHash: text("code_hash").notNull(),
  expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  failedAttempts: integer("failed_attempts").notNull().default(0),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull().default(sql`(unixepoch('subsec') * 1000)`),
});

/**
 * One row per session Auth.js issued (its JWT carries the id as `sid`): a session is valid only while its
 * row exists and has no endedAt, so ending one outlives the code store's cache (lib/sessions/sessions.ts).
 */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    /** Refreshed at most once per cache period, when the database is asked whether the session still holds. */
    lastSeenAt: integer("last_seen_at", { mode: "timestamp_ms" }).notNull(),
    endedAt: integer("ended_at", { mode: "timestamp_ms" }),
    userAgent: text("user_agent"),
    /** The client's network, never its full address: an IPv4 /24 or an IPv6 /48. */
    ipPrefix: text("ip_prefix"),
    /**
     * The user's session version this session carries (raised when the session is renewed across a change):
     * a bump ends sessions without touching their rows, so the list of live sessions compares this. Null on
     * rows from before it was recorded.
     */
    sessionVersion: integer("session_version"),
  },
  (table) => [index("sessions_user").on(table.userId)],
);

export type SessionRow = typeof sessions.$inferSelect;

/**
 * Passkeys (WebAuthn credentials, lib/credentials/passkeys.ts): the public key only, never a secret. The signature counter
 * is kept so a cloned authenticator that reports an older count is refused; the backup flags say whether the
 * credential is synced between devices.
 */
export const passkeys = sqliteTable(
  "passkeys",
  {
    /** The credential id, base64url, as the authenticator reports it. */
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** COSE public key, base64url. */
    publicKey: text("public_key").notNull(),
    counter: integer("counter").notNull().default(0),
    /** JSON array of the transports the browser reported (usb, internal, hybrid...). */
    transports: text("transports").notNull().default("[]"),
    deviceType: text("device_type", { enum: ["singleDevice", "multiDevice"] }).notNull(),
    backedUp: integer("backed_up", { mode: "boolean" }).notNull(),
    name: text("name").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
  },
  (table) => [index("passkeys_user").on(table.userId)],
);

export type Passkey = typeof passkeys.$inferSelect;
