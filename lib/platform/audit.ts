import "server-only";
import { after } from "next/server";
import type { Database } from "@/db/client";
import type { authEvents } from "@/db/schema";
import { insertAuthEvents } from "@/db/auth-events";
import { setAuthEventSink, type AuthEvent, type AuthEventFields, type AuthEventSink } from "./log";

/**
 * The auth_events table as a sink for lib/platform/log.ts: every structured auth event is also appended there
 * (time, event, user id, outcome, a few non-secret details), for the audit trail and the /admin metrics.
 *
 * Off the request path: events are queued and written in one INSERT after the response (Next's after();
 * within a second at most), or on the next turn of the event loop outside a request, so a login does not
 * wait for it. A failed write is counted and reported once per batch, never thrown at the request. The
 * queue is bounded: in an outage new events are dropped (and counted) rather than held without limit.
 */

type AuthEventRow = typeof authEvents.$inferInsert;

/** Keys that could carry a secret or an address are never stored, whatever a caller passes. */
const SECRET_KEY = /mail|pass|secret|token|otp|code|hash|cookie|auth|key|ip$|^ip/i;
const MAX_VALUE_LENGTH = 64;
/** Rows wait at most this long for the end of the response that queued them. */
const MAX_WRITE_DELAY_MS = 1_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A value fit for the table: short, no address, no run of digits that could be a code (an id field may hold a UUID). */
function safeValue(value: unknown, name = ""): string | number | boolean | undefined {
  if (typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value !== "string") return undefined;
  if (/Id$/.test(name) && UUID.test(value)) return value;
  if (value.length > MAX_VALUE_LENGTH || value.includes("@") || /\d{6}/.test(value)) return undefined;
  return value;
}

/** One event as its row: pure, so the no-secrets rule is testable on its own. */
export function toAuditRow(event: AuthEvent, fields: AuthEventFields, at: Date): AuthEventRow {
  const { userId, outcome, reason, ...rest } = fields;
  const detail: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(rest)) {
    if (SECRET_KEY.test(name)) continue;
    const safe = safeValue(value, name);
    if (safe !== undefined) detail[name] = safe;
  }
  const outcomeValue = safeValue(outcome ?? reason);
  return {
    at,
    event,
    userId: typeof userId === "string" && userId.length <= 64 && !userId.includes("@") ? userId : null,
    outcome: outcomeValue === undefined ? null : String(outcomeValue),
    detail: Object.keys(detail).length > 0 ? JSON.stringify(detail) : null,
  };
}

export interface AuditLogStats {
  written: number;
  failed: number;
  dropped: number;
}

export interface AuditLog {
  sink: AuthEventSink;
  /** Resolves once everything queued so far is written (or has failed): for scripts before they exit, and tests. */
  flush(): Promise<void>;
  stats: AuditLogStats;
}

export function createAuditLog(db: Database, options: { maxQueue?: number; maxBatch?: number } = {}): AuditLog {
  const maxQueue = options.maxQueue ?? 5_000;
  const maxBatch = options.maxBatch ?? 200;
  const stats: AuditLogStats = { written: 0, failed: 0, dropped: 0 };
  const queue: AuthEventRow[] = [];
  /** The next write, not started yet: its promise and what starts it. */
  let pending: { written: Promise<void>; start: () => void } | undefined;
  let writing: Promise<void> = Promise.resolve();

  async function writeQueued(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      try {
        await insertAuthEvents(db, batch);
        stats.written += batch.length;
      } catch (error) {
        stats.failed += batch.length;
        console.error(
          JSON.stringify({
            event: "audit_write_failed",
            count: batch.length,
            failedSoFar: stats.failed,
            type: error instanceof Error ? error.name : "unknown",
          }),
        );
      }
    }
  }

  function schedule(): void {
    if (!pending) {
      let start!: () => void;
      const written = new Promise<void>((resolve) => (start = resolve)).then(() => {
        pending = undefined;
        // One writer at a time keeps rows in the order they happened.
        writing = writing.then(writeQueued);
        return writing;
      });
      pending = { written, start };
      // Whichever comes first starts the write: the end of a response that queued a row, or this timer, so
      // that a request whose response never ends cannot hold back everyone's rows.
      setTimeout(start, MAX_WRITE_DELAY_MS).unref();
    }
    const { written, start } = pending;
    try {
      // Inside a request: once its response has gone out, so the (synchronous, for a local file) insert does
      // not hold it up; a serverless function stays alive until the write is done.
      after(() => {
        start();
        return written;
      });
    } catch {
      // Outside a request (scripts, tests): on the next turn of the event loop.
      setImmediate(start);
    }
  }

  const sink: AuthEventSink = (event, fields, at) => {
    if (queue.length >= maxQueue) {
      stats.dropped += 1;
      return;
    }
    queue.push(toAuditRow(event, fields, at));
    schedule();
  };

  async function flush(): Promise<void> {
    if (pending) {
      pending.start();
      await pending.written;
    }
    await writing;
    if (queue.length > 0) await (writing = writing.then(writeQueued));
  }

  return { sink, flush, stats };
}

const holder = globalThis as { __auditLog?: AuditLog };

/** Sends lib/platform/log.ts's events to this database's auth_events table (once per process). */
export function installAuditLog(db: Database): AuditLog {
  if (!holder.__auditLog) {
    holder.__auditLog = createAuditLog(db);
    setAuthEventSink(holder.__auditLog.sink);
  }
  return holder.__auditLog;
}

/** This process's audit write counters (shown on /admin when something failed). */
export function auditLogStats(): AuditLogStats | undefined {
  return holder.__auditLog?.stats;
}
