import "server-only";
import type { Database } from "@/db/client";
import { endSessionOf, endSessionsOf, liveSessionsOf } from "@/db/session-list";
import type { SessionRow } from "@/db/schema";
import { findUserById } from "@/db/users";
import type { AppConfig } from "../platform/config";
import { logAuthEvent } from "../platform/log";
import { denyInStore } from "./sessions";
import type { CodeStore } from "../store/code-store";
import type { PasswordRefusal } from "../accounts/password-confirmation";
import type { RequestContext } from "../accounts/results";
import { describeUserAgent } from "./user-agent";

/**
 * The signed-in person's own sessions: which still hold, and ending them. Ending is what logout does
 * (the row, which survives a Redis flush, then the store's deny entry for the fast path). Ending another
 * device's session takes the password typed again (ASVS 7.5.2), so a stolen session cannot sign its owner
 * out everywhere else; ending the session one is using is a logout and does not.
 */

type SessionConfig = Pick<AppConfig["auth"], "sessionMaxAgeSeconds" | "sessionIdleTimeoutSeconds">;

export interface SessionListDependencies {
  db: Database;
  store: CodeStore;
  config: SessionConfig;
  /** The person's password typed again, within the login limits (lib/accounts/password-confirmation.ts). */
  confirmPassword: (userId: string, password: string, context: RequestContext) => Promise<{ ok: true } | PasswordRefusal>;
}

/** Who asks to end sessions: the session they use, and the password they typed (unless they end only that session). */
export interface EndRequest {
  currentId: string;
  password?: string;
  context: RequestContext;
}

export type EndOneResult = { ok: true } | { ok: false; reason: "not_found" } | PasswordRefusal;

/** A session as its owner sees it: no user agent string in full, no address beyond the truncated network. */
export interface SessionView {
  id: string;
  browser: string;
  system: string;
  signedInAt: string;
  lastActiveAt: string;
  /** The network it was started from (IPv4 /24, IPv6 /48), or null when unknown. */
  network: string | null;
  current: boolean;
}

function viewOf(row: SessionRow, currentId: string | undefined): SessionView {
  return {
    id: row.id,
    ...describeUserAgent(row.userAgent),
    signedInAt: row.createdAt.toISOString(),
    lastActiveAt: row.lastSeenAt.toISOString(),
    network: row.ipPrefix ?? null,
    current: row.id === currentId,
  };
}

export function createSessionList(deps: SessionListDependencies) {
  const { db, store, config } = deps;

  /** Only sessions that would still open the account: a version bump or a deactivation ends them without an end time. */
  async function list(userId: string, currentId: string | undefined, now: number): Promise<SessionView[]> {
    const user = await findUserById(db, userId);
    if (!user?.isActive) return [];
    const rows = await liveSessionsOf(db, userId, {
      sessionVersion: user.sessionVersion,
      createdAfter: new Date(now - config.sessionMaxAgeSeconds * 1000),
      seenAfter: new Date(now - config.sessionIdleTimeoutSeconds * 1000),
      currentId,
    });
    return rows.map((row) => viewOf(row, currentId)).sort((a, b) => Number(b.current) - Number(a.current));
  }

  async function deny(row: SessionRow, now: number): Promise<void> {
    await denyInStore(store, { sid: row.id, authTime: row.createdAt.getTime() }, config, now);
  }

  async function confirmed(userId: string, request: EndRequest): Promise<{ ok: true } | PasswordRefusal> {
    if (request.password === undefined) return { ok: false, reason: "invalid_credentials" };
    return deps.confirmPassword(userId, request.password, request.context);
  }

  /** Ends one of the person's own sessions; "not_found" for an unknown id, another person's, or one already ended. */
  async function endOne(userId: string, id: string, request: EndRequest, now: number): Promise<EndOneResult> {
    if (id !== request.currentId) {
      const proof = await confirmed(userId, request);
      if (!proof.ok) return proof;
    }
    const row = await endSessionOf(db, userId, id, new Date(now));
    if (!row) return { ok: false, reason: "not_found" };
    await deny(row, now);
    logAuthEvent("session_ended_by_owner", { userId, sessionId: id });
    return { ok: true };
  }

  /** Ends every session of the person except the one asking; how many were still open. */
  async function endOthers(userId: string, request: EndRequest, now: number): Promise<{ ok: true; ended: number } | PasswordRefusal> {
    const proof = await confirmed(userId, request);
    if (!proof.ok) return proof;
    const rows = await endSessionsOf(db, userId, request.currentId, new Date(now));
    await Promise.all(rows.map((row) => deny(row, now)));
    logAuthEvent("other_sessions_ended_by_owner", { userId, count: rows.length });
    return { ok: true, ended: rows.length };
  }

  return { list, endOne, endOthers };
}

export type SessionList = ReturnType<typeof createSessionList>;
