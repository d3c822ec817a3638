/** Every variable lib/platform/config.ts reads, grouped as in .env.example, with how `npm run doctor` may show it. */
export type Shown = "plain" | "secret" | "url";
export const VARIABLES: Array<{ group: string; vars: Array<[name: string, shown: Shown, note?: string]> }> = [
  {
    group: "Runtime",
    vars: [
      ["NODE_ENV", "plain"],
      ["VERCEL", "plain", "set by Vercel"],
      ["APP_NAME", "plain", "default: Verified Signup"],
    ],
  },
  {
    group: "Auth",
    vars: [
      ["AUTH_SECRET", "secret", "required in production"],
      ["AUTH_URL", "url"],
      ["AUTH_TRUST_HOST", "plain"],
      ["SESSION_MAX_AGE_SECONDS", "plain", "default: 2592000 (30 days)"],
      ["SESSION_IDLE_TIMEOUT_SECONDS", "plain", "default: 604800 (7 days)"],
    ],
  },
  {
    group: "Database",
    vars: [
      ["DATABASE_URL", "url", "default: file:./data/app.db"],
      ["DATABASE_AUTH_TOKEN", "secret"],
    ],
  },
  {
    group: "Code store",
    vars: [
      ["UPSTASH_REDIS_REST_URL", "url"],
      ["UPSTASH_REDIS_REST_TOKEN", "secret"],
      ["REDIS_URL", "url"],
      ["REDIS_ALLOW_PLAINTEXT", "plain"],
      ["REDIS_CLUSTER", "plain"],
    ],
  },
  {
    group: "Mail",
    vars: [
      ["MAIL_FROM", "plain", "default: Verified Signup <no-reply@localhost>"],
      ["RESEND_API_KEY", "secret"],
      ["RESEND_BASE_URL", "url"],
      ["SMTP_URL", "url"],
      ["SMTP_HOST", "plain"],
      ["SMTP_PORT", "plain"],
      ["SMTP_USER", "plain"],
      ["SMTP_PASSWORD", "secret"],
      ["SMTP_SECURE", "plain"],
      ["SMTP_ALLOW_PLAINTEXT", "plain", "production refuses plain SMTP to another host unless true"],
      ["MAIL_RATE_PER_SECOND", "plain", "default: 2 with Resend (its team default), unpaced with SMTP"],
    ],
  },
  {
    group: "Codes",
    vars: [
      ["OTP_TTL_SECONDS", "plain", "default: 600"],
      ["OTP_MAX_ATTEMPTS", "plain", "default: 5"],
      ["OTP_RESEND_COOLDOWN_SECONDS", "plain", "default: 60"],
      ["OTP_MAX_LIFETIME_SECONDS", "plain", "default: 1800"],
    ],
  },
  {
    group: "Limits",
    vars: [
      ["OTP_SENDS_PER_HOUR", "plain", "default: 5"],
      ["OTP_SENDS_PER_DAY", "plain", "default: 10"],
      ["VERIFY_FAILURES_PER_HOUR", "plain", "default: 10"],
      ["VERIFY_FAILURES_PER_DAY", "plain", "default: 25"],
      ["VERIFY_FAILURES_PER_IP_PER_HOUR", "plain", "default: 60"],
      ["VERIFY_FAILURES_PER_IPV6_56_PER_HOUR", "plain", "default: 120"],
      ["VERIFY_FAILURES_PER_IPV6_48_PER_HOUR", "plain", "default: 240"],
      ["LOGIN_FAILURES_PER_ACCOUNT", "plain", "default: 10"],
      ["LOGIN_FAILURES_PER_IP", "plain", "default: 30"],
      ["LOGIN_FAILURE_WINDOW_SECONDS", "plain", "default: 900"],
      ["LOGIN_FAILURES_PER_IPV6_56", "plain", "default: 60"],
      ["LOGIN_FAILURES_PER_IPV6_48", "plain", "default: 120"],
      ["CODE_FAILURE_ALARM_PER_HOUR", "plain", "default: 2000"],
      ["CODE_FAILURE_ALARM_DELAY_MS", "plain", "default: 1000"],
      ["SECOND_FACTOR_NOTICE_AFTER", "plain", "default: 3"],
      ["LOGIN_LOCKOUT_AFTER", "plain", "default: 100"],
      ["REGISTER_PER_IP_PER_HOUR", "plain", "default: 20"],
      ["RESEND_PER_IP_PER_HOUR", "plain", "default: 20"],
      ["TRUST_PROXY", "plain", "Vercel is trusted on its own"],
      ["SIGN_IN_BY_CODE", "plain", "default: false (email is not an authenticator under NIST 800-63B)"],
    ],
  },
  { group: "Staff second factor", vars: [["TOTP_ENCRYPTION_KEY", "secret", "default: derived from AUTH_SECRET"]] },
  {
    group: "Passwords",
    vars: [
      ["PASSWORD_MIN_LENGTH", "plain", "default: 15"],
      ["PASSWORD_HASH_WAIT_MS", "plain", "default: 1000"],
      ["PASSWORD_HASH_QUEUE_LIMIT", "plain", "default: cores x PASSWORD_HASH_WAIT_MS / 25 ms"],
    ],
  },
  {
    group: "Housekeeping",
    vars: [
      ["CRON_SECRET", "secret", "enables /api/cron/cleanup"],
      ["UNVERIFIED_ACCOUNT_RETENTION_DAYS", "plain", "default: 7"],
    ],
  },
];

/** Every name the doctor lists (tests/docs/env-example.test.ts checks it covers lib/platform/config.ts). */
export const DOCTOR_VARIABLES = VARIABLES.flatMap((g) => g.vars.map(([name]) => name));
