/**
 * npm run doctor [-- --production] [-- --send-test you@example.com] [-- --env-file .env.production.local]
 *
 * Checks a deployment's configuration and dependencies and prints each problem with its fix: what is set or
 * missing for production, the code store (PING), the database (reachable, migrations applied), mail (SMTP login
 * or the Resend key's shape) and, with --send-test, a real test email. Never prints a secret.
 * Exit code 1 when any check fails. Production problems are failures when NODE_ENV=production, VERCEL is set or
 * --production is given, and warnings otherwise (so `npm run doctor` passes on a development machine).
 */
import { databaseOutageOf, OUTAGE_ADVICE } from "@/db/outage";
import { ConfigError, parseConfig, type AppConfig, type CodeStoreConfig, type MailConfig } from "@/lib/platform/config";
import { migrationsUpToDate, readMigrationStatus, withTimeout } from "@/lib/platform/health";
import { lastRefusal, type RecordedRefusal } from "@/lib/mail/delivery-queue";
import type { Mailer } from "@/lib/mail/mailer";
import { emailSchema } from "@/lib/schemas";
import { createCodeStore, createMailer } from "@/lib/platform/runtime";
import { parseScriptArgs, runScript } from "./support/cli";
import { connectDatabase, localFile, localFileExists } from "./support/database";
import { loadEnvFiles } from "./support/env-files";
import { describeError, describeSecret, describeUrl } from "./support/redact";
import { DOCTOR_VARIABLES, VARIABLES, type Shown } from "./support/variables";

const USAGE = "Usage: npm run doctor [-- --production] [--send-test you@example.com] [--env-file FILE]";

const DATABASE_TIMEOUT_MS = 10_000;
const STORE_TIMEOUT_MS = 5_000;
const MAIL_TIMEOUT_MS = 20_000;

// ---------------------------------------------------------------------------------------------------------------
// Output

type Level = "ok" | "info" | "warn" | "fail";
const MARK: Record<Level, string> = { ok: "  ok  ", info: "  --  ", warn: " WARN ", fail: " FAIL " };
const counts: Record<Level, number> = { ok: 0, info: 0, warn: 0, fail: 0 };

function heading(title: string): void {
  console.log(`\n${title}`);
}

/** One finding; `fix` lines are printed under it, indented. */
function report(level: Level, text: string, fix: string[] = []): void {
  counts[level]++;
  console.log(`[${MARK[level]}] ${text}`);
  for (const line of fix) console.log(`           -> ${line}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Environment listing: every variable lib/platform/config.ts reads, shown without secrets

function showVariable(name: string, shown: Shown, env: NodeJS.ProcessEnv): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") return "not set";
  if (shown === "secret") return describeSecret(value);
  if (shown === "url") return describeUrl(value.trim());
  return value;
}

function printEnvironment(env: NodeJS.ProcessEnv): void {
  heading("Environment (secrets are shown as set/missing only)");
  const width = Math.max(...DOCTOR_VARIABLES.map((n) => n.length)) + 2;
  for (const { group, vars } of VARIABLES) {
    console.log(`  ${group}`);
    for (const [name, shown, note] of vars) {
      const value = showVariable(name, shown, env);
      console.log(`    ${name.padEnd(width, " ")}${value}${note && value === "not set" ? `  (${note})` : ""}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Production readiness

function checkProduction(env: NodeJS.ProcessEnv, strict: boolean): void {
  heading(`Production readiness (${strict ? "problems are failures" : "development machine: problems are warnings; --production makes them failures"})`);
  const level: Level = strict ? "fail" : "warn";
  let problems: string[] = [];
  try {
    parseConfig({ ...env, NODE_ENV: "production", NEXT_PHASE: undefined });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems = error.problems;
  }
  const before = counts.fail + counts.warn;
  for (const problem of problems) report(level, problem);

  if (env.AUTH_URL && !/^https:\/\//.test(env.AUTH_URL) && !/^http:\/\/(localhost|127\.0\.0\.1)/.test(env.AUTH_URL)) {
    report("warn", "AUTH_URL is not https: session cookies are only marked Secure over https.");
  }
  const databaseUrl = env.DATABASE_URL?.trim() || "file:./data/app.db";
  if (databaseUrl.startsWith("file:") && !env.VERCEL) {
    report("info", "DATABASE_URL is a local file: fine for one server with a persistent disk, not for Vercel (use Turso/libSQL).");
  }
  if (!env.CRON_SECRET?.trim()) {
    report("warn", "CRON_SECRET is not set: /api/cron/cleanup answers 503 and unverified accounts are never removed.", [
      "Set CRON_SECRET to a random value (`openssl rand -hex 32`); Vercel Cron then sends it as `Authorization: Bearer ...` on its own.",
    ]);
  }
  const from = env.MAIL_FROM?.trim();
  if (!from || /@localhost\b/i.test(from)) {
    report(level === "fail" ? "warn" : "info", "MAIL_FROM is the default (no-reply@localhost): providers refuse or spam-folder it.", [
      'Set MAIL_FROM to an address on your own domain, e.g. "Verified Signup <no-reply@example.com>" (for Resend: a domain verified in Resend).',
    ]);
  }
  if (counts.fail + counts.warn === before) report("ok", "nothing required for production is missing");
}

// ---------------------------------------------------------------------------------------------------------------
// Database

async function checkDatabase(config: AppConfig): Promise<void> {
  const { url, authToken, isLocalFile } = config.database;
  heading(`Database: ${describeUrl(url)}${authToken ? " (auth token set)" : ""}`);
  if (localFile(url) && !localFileExists(url)) {
    report("ok", "the file does not exist yet: the app creates and migrates it when it starts (or run npm run db:migrate)");
    return;
  }
  if (!isLocalFile && /\.turso\.io/i.test(url) && !authToken) {
    report("fail", "DATABASE_AUTH_TOKEN is missing for a Turso database", ["Create one with `turso db tokens create <database>` and set DATABASE_AUTH_TOKEN."]);
  }
  const { client, db } = connectDatabase(url, authToken);
  try {
    const started = performance.now();
    const status = await withTimeout(async () => {
      await client.execute("select 1");
      return readMigrationStatus(db);
    }, DATABASE_TIMEOUT_MS);
    report("ok", `reachable (select 1 and migration status in ${Math.round(performance.now() - started)} ms)`);
    if (migrationsUpToDate(status)) {
      report("ok", `migrations applied: ${status.applied} of ${status.expected}`);
    } else if (isLocalFile) {
      report("warn", `migrations pending: ${status.pending.join(", ")} (${status.applied} of ${status.expected} applied)`, [
        "A local file database is migrated when the app starts; to do it now: npm run db:migrate",
      ]);
    } else {
      report("fail", `migrations pending: ${status.pending.join(", ")} (${status.applied} of ${status.expected} applied)`, [
        "Run `npm run db:migrate` with DATABASE_URL and DATABASE_AUTH_TOKEN set to this database (the build and the app do not migrate a remote database).",
      ]);
    }
  } catch (error) {
    const outage = databaseOutageOf(error);
    const cause = outage ? `${OUTAGE_ADVICE[outage.outage]} Driver said: ` : "";
    report("fail", `cannot query the database: ${cause}${describeError(error, [authToken])}`, [
      isLocalFile
        ? "Check the path and that the directory is readable and writable."
        : "Check DATABASE_URL (libsql://<database>-<org>.turso.io) and DATABASE_AUTH_TOKEN (`turso db tokens create <database>`); a 401 means the token is wrong or expired.",
    ]);
  } finally {
    client.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Code store

async function checkCodeStore(config: AppConfig, strict: boolean): Promise<void> {
  const store = config.codeStore;
  const where = store.kind === "memory" ? "" : `: ${describeUrl(store.url)}`;
  heading(`Code store: ${store.kind}${where}`);
  if (store.kind === "memory") {
    // Not a failure here: in production the readiness section above already fails it.
    report(strict ? "warn" : "info", "in-process store: codes live in one process's memory", [
      "Fine for `npm run dev`. With more than one instance (Vercel, two `next start`) a code issued by one is unknown to the others " +
        "and people see 'wrong code': set UPSTASH_REDIS_REST_URL + UPSTASH_REDIS_REST_TOKEN (Vercel) or REDIS_URL.",
    ]);
    return;
  }
  if (store.kind === "upstash" && !store.url.startsWith("https://")) {
    report("warn", "UPSTASH_REDIS_REST_URL should be the https:// REST URL, not the redis:// TCP one (or set that as REDIS_URL instead).");
  }
  const secrets = [store.kind === "upstash" ? store.token : undefined, store.kind === "redis" ? safePassword(store.url) : undefined];
  const instance = await createCodeStore(store);
  try {
    const started = performance.now();
    await withTimeout(() => instance.ping(), STORE_TIMEOUT_MS);
    report("ok", `PING answered in ${Math.round(performance.now() - started)} ms`);
  } catch (error) {
    report("fail", `the code store does not answer: ${describeError(error, secrets)}`, storeFixes(store));
  } finally {
    await instance.close?.().catch(() => {});
  }
}

function storeFixes(store: CodeStoreConfig): string[] {
  if (store.kind === "upstash") {
    return [
      "Copy UPSTASH_REDIS_REST_URL (https://<name>.upstash.io) and UPSTASH_REDIS_REST_TOKEN from the database's REST API section in the " +
        "Upstash console (the Vercel Marketplace integration sets both). A 401 means the token is wrong or read-only.",
    ];
  }
  return [
    "REDIS_URL looks like redis://[user:password@]host:6379, or rediss://... for TLS (Upstash TCP, Redis Cloud require TLS).",
    "Check that the server runs, the host and port are reachable from here (firewall, allow list), and the password is right.",
    "On Vercel prefer Upstash's REST API (UPSTASH_REDIS_REST_URL/_TOKEN): no connection to keep per instance.",
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Mail

function smtpHost(mail: Extract<MailConfig, { kind: "smtp" }>): { host: string; port?: number; secure: boolean } {
  if (mail.url) {
    try {
      const url = new URL(mail.url);
      const secure = mail.secure || url.protocol === "smtps:";
      return { host: url.hostname, port: url.port ? Number(url.port) : secure ? 465 : 587, secure };
    } catch {
      return { host: "", secure: mail.secure };
    }
  }
  return { host: mail.host ?? "", port: mail.port ?? (mail.secure ? 465 : 587), secure: mail.secure };
}

const GMAIL_FIX = [
  "Gmail / Google Workspace: turn on 2-Step Verification for the account, then create an App Password " +
    "(https://myaccount.google.com/apppasswords) and use those 16 characters as SMTP_PASSWORD: the normal password is refused.",
  "Use smtp.gmail.com port 465 with SMTP_SECURE=true, or port 587 with SMTP_SECURE=false (STARTTLS); SMTP_USER is the full address.",
];

function smtpFixes(error: unknown, host: string): string[] {
  const code = String((error as { code?: unknown })?.code ?? "");
  const text = String((error as Error)?.message ?? error);
  const gmail = /(^|\.)(gmail|googlemail)\.com$/i.test(host);
  if (code === "EAUTH" || /\b(535|534|530)\b|Invalid login|authentication/i.test(text)) {
    return [
      "The server refused the login: check SMTP_USER and SMTP_PASSWORD (in SMTP_URL, URL-encode them: @ is %40).",
      ...(gmail ? GMAIL_FIX : ["Many providers need an app-specific password or an SMTP key rather than the account password."]),
    ];
  }
  if (/wrong version number|ETLS|certificate|self.signed/i.test(`${code} ${text}`)) {
    return [
      "TLS mismatch: port 465 needs SMTP_SECURE=true (or an smtps:// URL); port 587 needs SMTP_SECURE=false (STARTTLS is negotiated).",
      ...(gmail ? GMAIL_FIX.slice(1) : []),
    ];
  }
  if (/ECONNREFUSED|ETIMEDOUT|ECONNECTION|EDNS|ENOTFOUND|EHOSTUNREACH|timed out|no answer/i.test(`${code} ${text}`)) {
    return [
      "No connection: check SMTP_HOST / SMTP_PORT (or SMTP_URL). Many networks and clouds block outgoing port 25: use 587 or 465.",
      ...(gmail ? GMAIL_FIX.slice(1) : []),
    ];
  }
  return gmail ? GMAIL_FIX : ["Check the SMTP settings against your provider's documentation."];
}

/** Returns the mailer when it is usable, so --send-test can use it. */
async function checkMail(config: AppConfig, strict: boolean): Promise<Mailer | undefined> {
  const mail = config.mail;
  heading(`Mail: ${mail.kind}`);
  const from = config.mail.from;
  if (mail.kind === "outbox") {
    report(strict ? "warn" : "info", "development outbox: nothing is sent; codes are printed to the server console and shown at /dev/outbox", [
      "For real mail set RESEND_API_KEY (Resend), or SMTP_URL / SMTP_HOST + SMTP_USER + SMTP_PASSWORD.",
    ]);
    return createMailer(mail);
  }
  const env = process.env;
  if (mail.kind === "resend") {
    if (env.SMTP_URL || env.SMTP_HOST) report("info", "RESEND_API_KEY is set, so Resend is used and the SMTP settings are ignored.");
    const mailer = await createMailer(mail);
    try {
      await mailer.verify();
      report("ok", "RESEND_API_KEY has the shape of a Resend key (re_...); only a sent message proves it works: --send-test");
    } catch {
      report("fail", "RESEND_API_KEY does not look like a Resend API key (re_...)", [
        "Create a key at https://resend.com/api-keys (sending access is enough) and set RESEND_API_KEY.",
      ]);
      return undefined;
    }
    if (/@(localhost|example\.(com|org|net))\b/i.test(from) || /resend\.dev/i.test(from)) {
      report("warn", `MAIL_FROM is ${from}: Resend only sends from domains you verified (onboarding@resend.dev reaches only your own address).`, [
        "Verify your domain at https://resend.com/domains and set MAIL_FROM to an address on it.",
      ]);
    }
    return mailer;
  }

  const { host, port, secure } = smtpHost(mail);
  if (port === 465 && !secure) report("warn", "port 465 with SMTP_SECURE=false: 465 speaks TLS from the first byte; set SMTP_SECURE=true.");
  if (port === 587 && secure) report("warn", "port 587 with SMTP_SECURE=true: 587 uses STARTTLS; set SMTP_SECURE=false.");
  if (!mail.url && !mail.user) report("warn", "SMTP_USER is not set: most providers require a login.");
  const mailer = await createMailer(mail);
  try {
    const started = performance.now();
    await withTimeout(() => mailer.verify(), MAIL_TIMEOUT_MS);
    report("ok", `SMTP login to ${host || "(host from SMTP_URL)"}:${port ?? ""} accepted in ${Math.round(performance.now() - started)} ms`);
    return mailer;
  } catch (error) {
    report("fail", `SMTP check failed on ${host}:${port ?? ""}: ${describeError(error, [mail.password, safePassword(mail.url)])}`, smtpFixes(error, host));
    return undefined;
  }
}

/** What the provider said the last time it refused a message for good, as the delivery queue recorded it in the code store. */
async function checkRecentRefusal(config: AppConfig): Promise<void> {
  if (config.codeStore.kind === "memory") return; // another process's memory: nothing to read
  heading(`Mail delivery (the queue in the code store, paced to ${config.mail.ratePerSecond || "no"} message(s) a second)`);
  const instance = await createCodeStore(config.codeStore);
  try {
    const refusal = await withTimeout(() => lastRefusal(instance), STORE_TIMEOUT_MS);
    if (!refusal) {
      report("ok", "no message refused for good by the provider in the last 7 days");
      return;
    }
    const ageMinutes = Math.round((Date.now() - refusal.at) / 60_000);
    const named = [refusal.provider, refusal.status, refusal.name].filter((p) => p !== undefined).join(" ");
    report(
      ageMinutes < 60 ? "fail" : "warn",
      `the provider refused a ${refusal.kind} message ${ageMinutes} min ago: ${named}${refusal.detail ? `: ${refusal.detail}` : ""}`,
      refusalFixes(refusal),
    );
  } catch (error) {
    report("warn", `could not read the delivery queue's state: ${describeError(error, [])}`);
  } finally {
    await instance.close?.().catch(() => {});
  }
}

function refusalFixes(refusal: RecordedRefusal): string[] {
  if (refusal.provider === "resend") {
    if (refusal.status === 403) return ["Verify the sending domain at https://resend.com/domains, or set MAIL_FROM to an address on a domain verified there."];
    if (refusal.status === 401) return ["RESEND_API_KEY is wrong or revoked: create a key at https://resend.com/api-keys."];
    if (refusal.status === 422) return ["Resend refused the message itself: check MAIL_FROM's format (Name <address@your-domain>)."];
    return ["Resend kept failing until the code expired: see https://resend-status.com, and lower MAIL_RATE_PER_SECOND if your plan allows fewer requests."];
  }
  return smtpFixes({ code: refusal.name, message: `${refusal.status ?? ""} ${refusal.detail ?? ""}` }, "");
}

async function sendTest(config: AppConfig, mailer: Mailer | undefined, to: string): Promise<void> {
  heading(`Test email to ${to}`);
  if (!mailer) {
    report("fail", "not sent: fix the mail check above first");
    return;
  }
  const sentAt = new Date().toISOString();
  try {
    await withTimeout(
      () =>
        mailer.send({
          to,
          subject: `${config.appName}: test email from npm run doctor`,
          text: `This is a test email sent by \`npm run doctor\` at ${sentAt}.\nIf you can read it, ${config.appName} can deliver verification codes.`,
          html: `<p>This is a test email sent by <code>npm run doctor</code> at ${sentAt}.</p><p>If you can read it, ${escapeHtml(config.appName)} can deliver verification codes.</p>`,
        }),
      MAIL_TIMEOUT_MS,
    );
    if (config.mail.kind === "outbox") {
      report("warn", "handed to the development outbox (printed above): no real email was sent");
    } else {
      report("ok", `accepted by ${config.mail.kind === "resend" ? "Resend" : "the SMTP server"}; check the inbox (and the spam folder)`);
    }
  } catch (error) {
    const secrets =
      config.mail.kind === "smtp" ? [config.mail.password, safePassword(config.mail.url)] : config.mail.kind === "resend" ? [config.mail.apiKey] : [];
    const fixes =
      config.mail.kind === "smtp"
        ? smtpFixes((error as { cause?: unknown }).cause ?? error, smtpHost(config.mail).host)
        : ["Check that RESEND_API_KEY is valid and MAIL_FROM uses a domain verified in Resend (https://resend.com/domains)."];
    report("fail", `sending failed: ${describeError(error, secrets)}`, fixes);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Codes

function checkCodes(config: AppConfig): void {
  const { ttlSeconds, maxAttempts, resendCooldownSeconds } = config.codes;
  heading("Codes");
  report(
    "info",
    `codes are valid ${formatSeconds(ttlSeconds)} (OTP_TTL_SECONDS=${ttlSeconds}), ${maxAttempts} tries each, a new one after ${resendCooldownSeconds} s`,
  );
  if (ttlSeconds < 300) {
    report("warn", `OTP_TTL_SECONDS=${ttlSeconds} is short: people who open the email a few minutes later will see "expired".`, [
      "10 to 15 minutes (600-900) is usual.",
    ]);
  }
  if (ttlSeconds > 3600) report("warn", `OTP_TTL_SECONDS=${ttlSeconds}: a code valid for over an hour gives guessing more time; 600-900 is usual.`);
  if (resendCooldownSeconds >= ttlSeconds) {
    report("warn", "OTP_RESEND_COOLDOWN_SECONDS is not shorter than OTP_TTL_SECONDS: a person with an expired code must wait for a new one.");
  }
  if (maxAttempts > 10) report("warn", `OTP_MAX_ATTEMPTS=${maxAttempts}: more than 10 tries per code makes guessing a 6-digit code easier.`);
}

// ---------------------------------------------------------------------------------------------------------------

function printTroubleshooting(config: AppConfig | undefined): void {
  const ttl = config ? formatSeconds(config.codes.ttlSeconds) : "10 minutes";
  const days = config?.housekeeping.unverifiedRetentionDays ?? 7;
  heading("When people report a problem");
  const items: Array<[string, string[]]> = [
    [
      '"The email never arrives"',
      [
        "Run `npm run doctor -- --send-test you@example.com` and look in the spam folder.",
        "Gmail SMTP needs 2-Step Verification and an App Password (not the account password); smtp.gmail.com:465 with SMTP_SECURE=true, or 587 with SMTP_SECURE=false (STARTTLS).",
        "Resend needs MAIL_FROM on a domain verified in Resend.",
      ],
    ],
    [
      '"The code is always wrong" (cache / code store)',
      [
        "Every instance must share one code store: UPSTASH_REDIS_REST_URL + _TOKEN or REDIS_URL. The in-process store (no store configured) " +
          "only works for a single `npm run dev`; behind a load balancer or on Vercel the code is checked by an instance that never saw it.",
        "AUTH_SECRET must be the same on every instance too (codes are hashed with a key derived from it).",
      ],
    ],
    [
      '"The code has expired"',
      [
        `Codes are valid ${ttl} (OTP_TTL_SECONDS). Ask for a new code on the verify page ("Send a new code", or POST /api/resend-otp); it replaces the old one.`,
      ],
    ],
    [
      '"My account is inactive" / login says the email is not verified',
      [
        'The address was never verified: enter the code from the email, or ask for a new one on the verify page ("Send a new code").',
        `Unverified accounts are deleted after ${days} days (UNVERIFIED_ACCOUNT_RETENTION_DAYS); after that, register again.`,
      ],
    ],
  ];
  for (const [title, lines] of items) {
    console.log(`  ${title}`);
    for (const line of lines) console.log(`    - ${line}`);
  }
}

function formatSeconds(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? "" : "s"}` : `${seconds} seconds`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function safePassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const { values } = parseScriptArgs({ production: { type: "boolean" }, "send-test": { type: "string" } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let sendTo: string | undefined;
  if (values["send-test"] !== undefined) {
    const parsed = emailSchema.safeParse(values["send-test"]);
    if (!parsed.success) {
      console.error(`--send-test needs an email address.\n${USAGE}`);
      return 1;
    }
    sendTo = parsed.data;
  }

  let envFiles: string[];
  try {
    envFiles = loadEnvFiles(values["env-file"]);
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
  const env = process.env;
  const strict = Boolean(values.production || env.NODE_ENV === "production" || env.VERCEL);
  console.log(`Verified Signup doctor: ${strict ? "production" : "development"} checks; env files: ${envFiles.length ? envFiles.join(", ") : "none"}`);

  printEnvironment(env);
  checkProduction(env, strict);

  let config: AppConfig | undefined;
  try {
    // The configuration the checks below use: the environment as given, without the start-up refusal (listed above).
    config = parseConfig({ ...env, NEXT_PHASE: "phase-production-build" });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    heading("Configuration");
    for (const problem of error.problems) report("fail", problem);
  }

  if (config) {
    await checkDatabase(config);
    await checkCodeStore(config, strict);
    const mailer = await checkMail(config, strict);
    await checkRecentRefusal(config);
    if (sendTo) await sendTest(config, mailer, sendTo);
    checkCodes(config);
  }
  printTroubleshooting(config);

  console.log(`\nSummary: ${counts.fail} failed, ${counts.warn} warning(s), ${counts.ok} ok.`);
  return counts.fail > 0 ? 1 : 0;
}

runScript(main);
