import "server-only";
/**
 * Telling a database that cannot be used (refused, unreachable, not answering) from a query that failed.
 * The first is an outage, answered like the code store's (503, a calm message); the second stays a bug.
 * Driver messages can quote a URL, so only the fixed cause names below are logged or shown.
 */

export type DatabaseOutageCause =
  /** The server answered 401/403: a wrong, expired or revoked DATABASE_AUTH_TOKEN. */
  | "auth_refused"
  /** No connection: refused, host unknown, network down. */
  | "unreachable"
  /** Connected or connecting, but no answer in time. */
  | "timeout"
  /** The WebSocket closed under us (also how sqld refuses a token over ws://). */
  | "connection_closed"
  /** The server answered 5xx. */
  | "server_error";

export class DatabaseUnavailableError extends Error {
  constructor(
    readonly outage: DatabaseOutageCause,
    cause?: unknown,
  ) {
    super(`The database is unavailable (${outage})`, { cause });
    this.name = "DatabaseUnavailableError";
  }
}

const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/** The outage an error (or any error it wraps: Drizzle's query error, Auth.js' callback error) stands for, if any. */
export function databaseOutageOf(error: unknown): DatabaseUnavailableError | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === "object" && !seen.has(current) && seen.size < 8) {
    seen.add(current);
    if (current instanceof DatabaseUnavailableError) return current;
    const outage = classify(current as ErrorLike);
    if (outage) return new DatabaseUnavailableError(outage, error);
    // Auth.js wraps what authorize() threw as `cause.err`.
    const cause = (current as { cause?: unknown }).cause;
    current = cause && typeof cause === "object" && "err" in cause && !(cause instanceof Error) ? (cause as { err: unknown }).err : cause;
  }
  return undefined;
}

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  status?: unknown;
  message?: unknown;
}

function classify(error: ErrorLike): DatabaseOutageCause | undefined {
  const code = typeof error.code === "string" ? error.code : "";
  const message = typeof error.message === "string" ? error.message : "";
  // SQLite's own errors (constraints, syntax, busy) are answers from a working database.
  if (code.startsWith("SQLITE_")) return undefined;
  if (code === "SERVER_ERROR" || error.name === "HttpServerError") {
    const status = typeof error.status === "number" ? error.status : Number(/HTTP status (\d{3})/.exec(message)?.[1]);
    if (status === 401 || status === 403) return "auth_refused";
    if (status >= 500) return "server_error";
    return undefined;
  }
  // Hrana's own refusals: AUTH_JWT_INVALID, AUTH_JWT_EXPIRED, AUTH_HEADER_NOT_FOUND and the like.
  if (code.startsWith("AUTH_")) return "auth_refused";
  if (UNREACHABLE_CODES.has(code)) return "unreachable";
  if (TIMEOUT_CODES.has(code) || error.name === "TimeoutError" || error.name === "CheckTimeoutError") return "timeout";
  if (code === "HRANA_WEBSOCKET_ERROR" || error.name === "WebSocketError") {
    return /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH/.test(message) ? "unreachable" : "connection_closed";
  }
  return undefined;
}

/** What each cause means for the person running the deployment (start-up refusal, doctor, health). */
export const OUTAGE_ADVICE: Record<DatabaseOutageCause, string> = {
  auth_refused:
    "the database refused the credentials (HTTP 401/403): DATABASE_AUTH_TOKEN is wrong, expired, revoked or for another database (`turso db tokens create <database>`).",
  unreachable: "the database cannot be reached: check DATABASE_URL's host and port (libsql://<database>-<org>.turso.io) and the network.",
  timeout: "the database did not answer in time: check DATABASE_URL and the network, or the provider's status page.",
  connection_closed:
    "the database closed the connection: over ws:// this is also how a wrong DATABASE_AUTH_TOKEN is refused; check DATABASE_AUTH_TOKEN and DATABASE_URL.",
  server_error: "the database server answered with an error (HTTP 5xx): check the provider's status page; DATABASE_URL may name the wrong database.",
};

/** The log line of an outage: the cause by name only, never the driver's text. */
export function logDatabaseOutage(outage: DatabaseUnavailableError, during: string): void {
  console.error(JSON.stringify({ at: new Date().toISOString(), event: "database_unavailable", cause: outage.outage, during }));
}
