import "server-only";
import type { Database } from "@/db/client";
import journal from "@/db/migrations/meta/_journal.json";
import { databaseOutageOf, type DatabaseOutageCause } from "@/db/outage";
import { pingDatabase, readAppliedMigrations } from "@/db/migration-status";
import type { CodeStoreConfig, MailConfig } from "./config";
import type { CodeStore } from "../store/code-store";

/**
 * Dependency checks shared by GET /api/health and `npm run doctor`. Each check has its own short timeout, so a
 * dead dependency is reported within a few seconds instead of hanging the caller. Results carry no secrets, no
 * URLs and no driver error text (which can quote a URL): only fixed descriptions.
 */

export const HEALTH_CHECK_TIMEOUT_MS = 2_000;
export const MIGRATIONS_TABLE = "__drizzle_migrations";

export interface MigrationStatus {
  /** Rows in drizzle's migrations table. */
  applied: number;
  /** Entries in db/migrations/meta/_journal.json (bundled with the code, so no file is read at run time). */
  expected: number;
  /** Journal tags newer than the newest applied migration: what `npm run db:migrate` would apply. */
  pending: string[];
}

export interface DatabaseCheck {
  ok: boolean;
  latencyMs: number;
  migrations?: { applied: number; expected: number };
  error?: string;
}

export interface CodeStoreCheck {
  ok: boolean;
  kind: CodeStoreConfig["kind"];
  latencyMs: number;
  error?: string;
}

export interface MailCheck {
  ok: boolean;
  kind: MailConfig["kind"];
  error?: string;
}

export interface HealthReport {
  status: "ok" | "error";
  /** The dependencies that failed, by the names used in `checks`. */
  failing?: Array<"database" | "codeStore" | "mail">;
  checks: { database: DatabaseCheck; codeStore: CodeStoreCheck; mail: MailCheck };
}

export class CheckTimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "CheckTimeoutError";
  }
}

/** Settles with `work`, or rejects with CheckTimeoutError after `ms` (the work itself is left to finish or fail). */
export async function withTimeout<T>(work: () => Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeoutError(ms)), ms);
  });
  try {
    return await Promise.race([work(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Compares drizzle's migrations table with the journal the code was built with, the way drizzle's migrator decides. */
export async function readMigrationStatus(db: Database): Promise<MigrationStatus> {
  const entries = journal.entries;
  const row = await readAppliedMigrations(db, MIGRATIONS_TABLE);
  if (!row) return { applied: 0, expected: entries.length, pending: entries.map((e) => e.tag) };
  const { applied, newest } = row;
  const newestApplied = newest === null ? -Infinity : Number(newest);
  return {
    applied,
    expected: entries.length,
    pending: entries.filter((e) => e.when > newestApplied).map((e) => e.tag),
  };
}

export function migrationsUpToDate(status: MigrationStatus): boolean {
  return status.pending.length === 0 && status.applied >= status.expected;
}

export async function checkDatabase(getDb: () => Promise<Database>, timeoutMs = HEALTH_CHECK_TIMEOUT_MS): Promise<DatabaseCheck> {
  const started = performance.now();
  try {
    const status = await withTimeout(async () => {
      const db = await getDb();
      await pingDatabase(db);
      return readMigrationStatus(db);
    }, timeoutMs);
    const latencyMs = elapsed(started);
    const migrations = { applied: status.applied, expected: status.expected };
    if (!migrationsUpToDate(status)) {
      return { ok: false, latencyMs, migrations, error: `migrations not applied: ${status.pending.length} pending` };
    }
    return { ok: true, latencyMs, migrations };
  } catch (error) {
    const outage = error instanceof CheckTimeoutError ? undefined : databaseOutageOf(error);
    const description = outage ? DATABASE_OUTAGE_DESCRIPTIONS[outage.outage] : describeFailure(error, "database unreachable or failing");
    return { ok: false, latencyMs: elapsed(started), error: description };
  }
}

/** Fixed texts: what a health check may say about a database outage (the cause, never the URL). */
const DATABASE_OUTAGE_DESCRIPTIONS: Record<DatabaseOutageCause, string> = {
  auth_refused: "database refused the credentials (check DATABASE_AUTH_TOKEN)",
  unreachable: "database unreachable (check DATABASE_URL)",
  timeout: "database did not answer in time",
  connection_closed: "database closed the connection (check DATABASE_AUTH_TOKEN and DATABASE_URL)",
  server_error: "database server error",
};

export async function checkCodeStore(
  kind: CodeStoreConfig["kind"],
  getStore: () => Promise<CodeStore>,
  timeoutMs = HEALTH_CHECK_TIMEOUT_MS,
): Promise<CodeStoreCheck> {
  const started = performance.now();
  try {
    await withTimeout(async () => (await getStore()).ping(), timeoutMs);
    return { ok: true, kind, latencyMs: elapsed(started) };
  } catch (error) {
    return { ok: false, kind, latencyMs: elapsed(started), error: describeFailure(error, "code store unreachable") };
  }
}

/** "Configured" only: a health check never sends mail or logs in to SMTP (`npm run doctor` does that). */
export function checkMail(kind: MailConfig["kind"], isProduction: boolean): MailCheck {
  if (kind === "outbox" && isProduction) return { ok: false, kind, error: "no mail transport configured" };
  return { ok: true, kind };
}

export interface HealthDependencies {
  isProduction: boolean;
  codeStoreKind: CodeStoreConfig["kind"];
  mailKind: MailConfig["kind"];
  database: () => Promise<Database>;
  codeStore: () => Promise<CodeStore>;
  timeoutMs?: number;
}

/** Runs the checks side by side: the whole report takes about as long as the slowest check (at most its timeout). */
export async function runHealthChecks(deps: HealthDependencies): Promise<HealthReport> {
  const [database, codeStore] = await Promise.all([
    checkDatabase(deps.database, deps.timeoutMs),
    checkCodeStore(deps.codeStoreKind, deps.codeStore, deps.timeoutMs),
  ]);
  const mail = checkMail(deps.mailKind, deps.isProduction);
  const checks = { database, codeStore, mail };
  const failing = (Object.keys(checks) as Array<keyof typeof checks>).filter((name) => !checks[name].ok);
  return failing.length === 0 ? { status: "ok", checks } : { status: "error", failing, checks };
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

/** A fixed description: driver messages can quote connection strings, so they stay in the server log, by type only. */
function describeFailure(error: unknown, fallback: string): string {
  return error instanceof CheckTimeoutError ? `timed out after ${error.ms} ms` : fallback;
}
