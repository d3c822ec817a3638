import "server-only";
import { createHmac, randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { z } from "zod";
import { DEFAULT_PASSWORD_MIN_LENGTH } from "../form-rules";

/**
 * The one place that reads the environment. Everything else asks getConfig().
 * Parsed once per process; in production an embedded default that cannot work there refuses to start.
 */

const flag = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((v) => v === "true" || v === "1");

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
/**
 * About what one Argon2id hash or verify takes on a core (measured 12-19 ms on a 2-core machine): with one in
 * flight per core, the last of N waiting starts after about N / cores of these.
 */
const ARGON2ID_MS = 25;
/** Resend's documented default: 2 requests a second per team. */
const RESEND_DEFAULT_RATE = 2;
/** AUTH_SECRET's least length in production (characters; 32 hex characters are still 128 bits). */
const MIN_SECRET_LENGTH = 32;
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== "" ? v.trim() : undefined));

const envSchema = z.object({
  NODE_ENV: z.string().optional(),
  VERCEL: optionalText,
  NEXT_PHASE: optionalText,
  APP_NAME: z.string().default("Verified Signup"),

  AUTH_SECRET: optionalText,
  AUTH_URL: optionalText,
  AUTH_TRUST_HOST: flag,

  DATABASE_URL: z.string().default("file:./data/app.db"),
  DATABASE_AUTH_TOKEN: optionalText,

  UPSTASH_REDIS_REST_URL: optionalText,
  UPSTASH_REDIS_REST_TOKEN: optionalText,
  REDIS_URL: optionalText,
  REDIS_ALLOW_PLAINTEXT: flag,
  /** A Redis Cluster behind REDIS_URL: true or false, or unset to ask the server when connecting. */
  REDIS_CLUSTER: z
    .enum(["true", "false", "1", "0", "auto", ""])
    .optional()
    .transform((v) => (v === "true" || v === "1" ? true : v === "false" || v === "0" ? false : ("auto" as const))),

  MAIL_FROM: z.string().default("Verified Signup <no-reply@localhost>"),
  RESEND_API_KEY: optionalText,
  RESEND_BASE_URL: optionalText,
  SMTP_URL: optionalText,
  SMTP_HOST: optionalText,
  SMTP_PORT: z.coerce.number().int().positive().optional(),
  SMTP_USER: optionalText,
  SMTP_PASSWORD: optionalText,
  SMTP_SECURE: flag,
  SMTP_ALLOW_PLAINTEXT: flag,
  /** Messages a second the provider accepts (all instances together); default 2 for Resend (its team default), unpaced for SMTP. */
  MAIL_RATE_PER_SECOND: z.coerce.number().min(0).optional(),

  OTP_TTL_SECONDS: positiveInt(600),
  OTP_MAX_ATTEMPTS: positiveInt(5),
  OTP_RESEND_COOLDOWN_SECONDS: positiveInt(60),
  OTP_MAX_LIFETIME_SECONDS: positiveInt(1800),
  OTP_SENDS_PER_HOUR: positiveInt(5),
  OTP_SENDS_PER_DAY: positiveInt(10),
  VERIFY_FAILURES_PER_HOUR: positiveInt(10),
  VERIFY_FAILURES_PER_DAY: positiveInt(25),
  VERIFY_FAILURES_PER_IP_PER_HOUR: positiveInt(60),
  VERIFY_FAILURES_PER_IPV6_56_PER_HOUR: positiveInt(120),
  VERIFY_FAILURES_PER_IPV6_48_PER_HOUR: positiveInt(240),
  LOGIN_FAILURES_PER_ACCOUNT: positiveInt(10),
  LOGIN_FAILURES_PER_IP: positiveInt(30),
  LOGIN_FAILURES_PER_IPV6_56: positiveInt(60),
  LOGIN_FAILURES_PER_IPV6_48: positiveInt(120),
  CODE_FAILURE_ALARM_PER_HOUR: positiveInt(2000),
  CODE_FAILURE_ALARM_DELAY_MS: positiveInt(1000),
  SECOND_FACTOR_NOTICE_AFTER: positiveInt(3),
  LOGIN_FAILURE_WINDOW_SECONDS: positiveInt(900),
  LOGIN_LOCKOUT_AFTER: positiveInt(100),
  REGISTER_PER_IP_PER_HOUR: positiveInt(20),
  RESEND_PER_IP_PER_HOUR: positiveInt(20),
  TRUST_PROXY: flag,
  SIGN_IN_BY_CODE: flag,
  SESSION_MAX_AGE_SECONDS: positiveInt(30 * 24 * 3600),
  SESSION_IDLE_TIMEOUT_SECONDS: positiveInt(7 * 24 * 3600),
  CRON_SECRET: optionalText,
  TOTP_ENCRYPTION_KEY: z
    .string()
    .optional()
    .transform((v) => (v && v.trim() !== "" ? v.trim() : undefined))
    .refine((v) => v === undefined || v.length >= 32, "TOTP_ENCRYPTION_KEY must be at least 32 characters (e.g. `openssl rand -base64 32`)"),
  UNVERIFIED_ACCOUNT_RETENTION_DAYS: positiveInt(7),
  /** Password hashes that may wait for a core (beyond one in flight per core); default sized from PASSWORD_HASH_WAIT_MS. */
  PASSWORD_HASH_QUEUE_LIMIT: z.coerce.number().int().min(0).optional(),
  /** The longest a request should wait for a password hash to start. */
  PASSWORD_HASH_WAIT_MS: positiveInt(1000),
  PASSWORD_MIN_LENGTH: z.coerce.number().int().min(8, "PASSWORD_MIN_LENGTH may not be below 8").max(64).default(DEFAULT_PASSWORD_MIN_LENGTH),
});

export type CodeStoreConfig = { kind: "upstash"; url: string; token: string } | { kind: "redis"; url: string; cluster: boolean | "auto" } | { kind: "memory" };

export type MailConfig =
  | { kind: "resend"; apiKey: string; baseUrl?: string }
  | {
      kind: "smtp";
      url?: string;
      host?: string;
      port?: number;
      user?: string;
      password?: string;
      secure: boolean;
      /** Mail to another host only over TLS (implicit, or STARTTLS made mandatory): in production, unless SMTP_ALLOW_PLAINTEXT. */
      requireTls: boolean;
    }
  | { kind: "outbox" };

export interface AppConfig {
  isProduction: boolean;
  onVercel: boolean;
  appName: string;
  auth: {
    secret: string;
    trustHost: boolean;
    /** Cookies marked Secure with the __Host- prefix: production over https. */
    secureCookies: boolean;
    /** Absolute session lifetime, counted from login; activity never extends it. */
    sessionMaxAgeSeconds: number;
    sessionIdleTimeoutSeconds: number;
  };
  database: { url: string; authToken?: string; isLocalFile: boolean };
  codeStore: CodeStoreConfig;
  mail: MailConfig & { from: string; ratePerSecond: number };
  codes: {
    ttlSeconds: number;
    maxLifetimeSeconds: number;
    maxAttempts: number;
    resendCooldownSeconds: number;
    hmacKey: Buffer;
    /** Seals the pending details a code record carries (lib/credentials/sealed.ts). */
    payloadKey: Buffer;
  };
  limits: {
    sendsPerHour: number;
    sendsPerDay: number;
    verifyFailuresPerHour: number;
    verifyFailuresPerDay: number;
    verifyFailuresPerIpPerHour: number;
    /** The same across an IPv6 /56 and /48 (many /64s of one network guessing together). */
    verifyFailuresPerIpv6_56PerHour: number;
    verifyFailuresPerIpv6_48PerHour: number;
    loginFailuresPerAccount: number;
    loginFailuresPerIp: number;
    loginFailuresPerIpv6_56: number;
    loginFailuresPerIpv6_48: number;
    /** Wrong codes an hour across every address and client beyond which code checks are slowed (lib/codes/guessing-alarm.ts). */
    codeFailureAlarmPerHour: number;
    codeFailureAlarmDelayMs: number;
    /** Consecutive wrong second-factor codes after which the staff account's address gets a notice. */
    secondFactorNoticeAfter: number;
    loginFailureWindowSeconds: number;
    loginLockoutAfter: number;
    registerPerIpPerHour: number;
    resendPerIpPerHour: number;
  };
  /** "Email me a sign-in code" for verified customers (off by default: NIST does not accept email as an authenticator). */
  signInByCode: boolean;
  /** Take the client IP from the platform's forwarded header (on Vercel, or TRUST_PROXY=true). */
  trustProxy: boolean;
  passwordMinLength: number;
  /** Argon2id work (lib/credentials/passwords.ts): hashes running at once, and how many may wait before a request is turned away. */
  passwordHashing: { maxInFlight: number; maxWaiting: number };
  housekeeping: { cronSecret?: string; unverifiedRetentionDays: number };
  /**
   * The passkey relying party (lib/credentials/passkeys.ts): origin and RP ID come from AUTH_URL when it is set; without it
   * (AUTH_TRUST_HOST, or development) they are taken from each request's host (lib/credentials/passkey-relying-party.ts).
   */
  passkeys: { rpName: string; origin?: string; rpId?: string };
  /** Staff/admin second factor (lib/credentials/totp.ts): the AES-256-GCM key for TOTP secrets at rest, and the issuer shown in the app. */
  totp: { encryptionKey: Buffer; issuer: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Configuration problems:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Pure: turns an environment into a config, or throws ConfigError listing every problem at once. */
export function parseConfig(env: Record<string, string | undefined>): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  const e = parsed.data;
  const cores = Math.max(1, availableParallelism());
  const onVercel = Boolean(e.VERCEL);
  const isProduction = e.NODE_ENV === "production" || onVercel;
  // `next build` runs with NODE_ENV=production but without runtime secrets; the guards apply when the server starts.
  const enforce = isProduction && e.NEXT_PHASE !== "phase-production-build";
  const problems: string[] = [];

  const codeStore: CodeStoreConfig =
    e.UPSTASH_REDIS_REST_URL && e.UPSTASH_REDIS_REST_TOKEN
      ? { kind: "upstash", url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN }
      : e.REDIS_URL
        ? { kind: "redis", url: e.REDIS_URL, cluster: e.REDIS_CLUSTER }
        : { kind: "memory" };
  if (Boolean(e.UPSTASH_REDIS_REST_URL) !== Boolean(e.UPSTASH_REDIS_REST_TOKEN)) {
    problems.push("Set both UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN, or neither.");
  }

  const mail: MailConfig = e.RESEND_API_KEY
    ? { kind: "resend", apiKey: e.RESEND_API_KEY, baseUrl: e.RESEND_BASE_URL }
    : e.SMTP_URL || e.SMTP_HOST
      ? {
          kind: "smtp",
          url: e.SMTP_URL,
          host: e.SMTP_HOST,
          port: e.SMTP_PORT,
          user: e.SMTP_USER,
          password: e.SMTP_PASSWORD,
          secure: e.SMTP_SECURE,
          requireTls: isProduction && !e.SMTP_ALLOW_PLAINTEXT,
        }
      : { kind: "outbox" };

  const isLocalFile = e.DATABASE_URL.startsWith("file:");

  if (enforce) {
    if (!e.AUTH_SECRET) problems.push("AUTH_SECRET is missing: set it to a random value (`npx auth secret` or `openssl rand -base64 33`).");
    // The session encryption, the code hash key and the TOTP key are all derived from it.
    else if (e.AUTH_SECRET.length < MIN_SECRET_LENGTH) {
      problems.push(
        `AUTH_SECRET is too short (${e.AUTH_SECRET.length} characters, at least ${MIN_SECRET_LENGTH}): use \`npx auth secret\` or \`openssl rand -base64 33\`.`,
      );
    }
    if (!e.AUTH_URL && !e.AUTH_TRUST_HOST && !onVercel) {
      problems.push("Set AUTH_URL to the site's public URL, or AUTH_TRUST_HOST=true behind a proxy you trust.");
    }
    if (codeStore.kind === "redis" && isPlaintextToAnotherHost(codeStore.url) && !e.REDIS_ALLOW_PLAINTEXT) {
      problems.push(
        "REDIS_URL is redis:// (no TLS) to another host: use rediss://, or set REDIS_ALLOW_PLAINTEXT=true if that network is private and you accept it.",
      );
    }
    if (mail.kind === "smtp" && smtpAsksForPlaintext(mail) && !e.SMTP_ALLOW_PLAINTEXT) {
      problems.push(
        "SMTP is set to send without TLS (ignoreTLS in SMTP_URL) to another host: codes and the SMTP password would cross the network in clear. " +
          "Use port 465 with SMTP_SECURE=true (or smtps://) or 587 with STARTTLS, or set SMTP_ALLOW_PLAINTEXT=true if that network is private and you accept it.",
      );
    }
    if (codeStore.kind === "memory") {
      problems.push("No code store: set UPSTASH_REDIS_REST_URL + UPSTASH_REDIS_REST_TOKEN, or REDIS_URL (the in-process store is for development only).");
    }
    if (mail.kind === "outbox") {
      problems.push("No mail transport: set RESEND_API_KEY, or SMTP_URL / SMTP_HOST (the development outbox does not send mail).");
    }
    if (onVercel && isLocalFile) {
      problems.push("DATABASE_URL points to a local file, which does not persist on Vercel: use a Turso/libSQL URL and DATABASE_AUTH_TOKEN.");
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const secret = e.AUTH_SECRET ?? developmentSecret();
  return {
    isProduction,
    onVercel,
    appName: e.APP_NAME,
    auth: {
      secret,
      trustHost: e.AUTH_TRUST_HOST || onVercel || !isProduction,
      secureCookies: isProduction && (onVercel || Boolean(e.AUTH_URL?.startsWith("https://"))),
      sessionMaxAgeSeconds: e.SESSION_MAX_AGE_SECONDS,
      sessionIdleTimeoutSeconds: Math.min(e.SESSION_IDLE_TIMEOUT_SECONDS, e.SESSION_MAX_AGE_SECONDS),
    },
    database: { url: e.DATABASE_URL, authToken: e.DATABASE_AUTH_TOKEN, isLocalFile },
    codeStore,
    mail: { ...mail, from: e.MAIL_FROM, ratePerSecond: e.MAIL_RATE_PER_SECOND ?? (mail.kind === "resend" ? RESEND_DEFAULT_RATE : 0) },
    codes: {
      ttlSeconds: e.OTP_TTL_SECONDS,
      maxLifetimeSeconds: Math.max(e.OTP_MAX_LIFETIME_SECONDS, e.OTP_TTL_SECONDS),
      maxAttempts: e.OTP_MAX_ATTEMPTS,
      resendCooldownSeconds: e.OTP_RESEND_COOLDOWN_SECONDS,
      // A key of its own for code hashes, so the session-signing key is never used for anything else.
      hmacKey: createHmac("sha256", secret).update("verified-signup/otp-hmac/v1").digest(),
      payloadKey: createHmac("sha256", secret).update("verified-signup/code-payload-aes-gcm/v1").digest(),
    },
    limits: {
      sendsPerHour: e.OTP_SENDS_PER_HOUR,
      sendsPerDay: e.OTP_SENDS_PER_DAY,
      verifyFailuresPerHour: e.VERIFY_FAILURES_PER_HOUR,
      verifyFailuresPerDay: e.VERIFY_FAILURES_PER_DAY,
      verifyFailuresPerIpPerHour: e.VERIFY_FAILURES_PER_IP_PER_HOUR,
      verifyFailuresPerIpv6_56PerHour: e.VERIFY_FAILURES_PER_IPV6_56_PER_HOUR,
      verifyFailuresPerIpv6_48PerHour: e.VERIFY_FAILURES_PER_IPV6_48_PER_HOUR,
      loginFailuresPerAccount: e.LOGIN_FAILURES_PER_ACCOUNT,
      loginFailuresPerIp: e.LOGIN_FAILURES_PER_IP,
      loginFailuresPerIpv6_56: e.LOGIN_FAILURES_PER_IPV6_56,
      loginFailuresPerIpv6_48: e.LOGIN_FAILURES_PER_IPV6_48,
      codeFailureAlarmPerHour: e.CODE_FAILURE_ALARM_PER_HOUR,
      codeFailureAlarmDelayMs: e.CODE_FAILURE_ALARM_DELAY_MS,
      secondFactorNoticeAfter: e.SECOND_FACTOR_NOTICE_AFTER,
      loginFailureWindowSeconds: e.LOGIN_FAILURE_WINDOW_SECONDS,
      loginLockoutAfter: e.LOGIN_LOCKOUT_AFTER,
      registerPerIpPerHour: e.REGISTER_PER_IP_PER_HOUR,
      resendPerIpPerHour: e.RESEND_PER_IP_PER_HOUR,
    },
    trustProxy: e.TRUST_PROXY || onVercel,
    signInByCode: e.SIGN_IN_BY_CODE,
    passwordMinLength: e.PASSWORD_MIN_LENGTH,
    passwordHashing: {
      maxInFlight: cores,
      maxWaiting: e.PASSWORD_HASH_QUEUE_LIMIT ?? Math.max(1, Math.floor((cores * e.PASSWORD_HASH_WAIT_MS) / ARGON2ID_MS)),
    },
    housekeeping: { cronSecret: e.CRON_SECRET, unverifiedRetentionDays: e.UNVERIFIED_ACCOUNT_RETENTION_DAYS },
    passkeys: { rpName: e.APP_NAME, ...relyingPartyOf(e.AUTH_URL) },
    totp: {
      // Its own key; by default derived from AUTH_SECRET like the code key (set TOTP_ENCRYPTION_KEY to rotate AUTH_SECRET freely).
      encryptionKey: createHmac("sha256", e.TOTP_ENCRYPTION_KEY ?? secret)
        .update("verified-signup/totp-aes-gcm/v1")
        .digest(),
      issuer: e.APP_NAME,
    },
  };
}

/** AUTH_URL's origin and host name (the RP ID); nothing for an unreadable URL (Auth.js then refuses it too). */
function relyingPartyOf(authUrl: string | undefined): { origin?: string; rpId?: string } {
  if (!authUrl) return {};
  try {
    const url = new URL(authUrl);
    return { origin: url.origin, rpId: url.hostname };
  } catch {
    return {};
  }
}

/** SMTP settings that turn TLS off (nodemailer's ignoreTLS in the URL) for a host that is not this machine. */
function smtpAsksForPlaintext(mail: Extract<MailConfig, { kind: "smtp" }>): boolean {
  if (!mail.url) return false;
  let parsed: URL;
  try {
    parsed = new URL(mail.url);
  } catch {
    return false;
  }
  if (parsed.protocol === "smtps:" || mail.secure || parsed.searchParams.get("ignoreTLS") !== "true") return false;
  return !isLoopbackHost(parsed.hostname);
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A redis:// URL (no TLS) whose host is not this machine; an unreadable URL counts as one. */
function isPlaintextToAnotherHost(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return true;
  }
  if (parsed.protocol !== "redis:") return false;
  return !isLoopbackHost(parsed.hostname);
}

/** Development only: a per-process random secret, so `npm run dev` works with no configuration. */
function developmentSecret(): string {
  const holder = globalThis as { __devAuthSecret?: string };
  holder.__devAuthSecret ??= randomBytes(32).toString("base64url");
  return holder.__devAuthSecret;
}

let cached: AppConfig | undefined;

export function getConfig(): AppConfig {
  cached ??= parseConfig(process.env);
  return cached;
}
