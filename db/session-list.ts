import "server-only";
import { and, desc, eq, gt, isNull, ne } from "drizzle-orm";
import type { Database } from "./client";
import { sessions, type SessionRow } from "./schema";

/** The queries behind the owner's list of sessions (lib/sessions/session-list.ts). */

/**
 * Sessions of `userId` that still hold: not ended, carrying the user's current session version, and within
 * both lifetimes. `currentId` is included whatever its recorded version (a row from before versions were
 * recorded): the request asking is itself proof that it holds.
 */
export async function liveSessionsOf(
  db: Database,
  userId: string,
  filter: { sessionVersion: number; createdAfter: Date; seenAfter: Date; currentId?: string },
): Promise<SessionRow[]> {
  const rows = await db
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.endedAt), gt(sessions.createdAt, filter.createdAfter), gt(sessions.lastSeenAt, filter.seenAfter)))
    .orderBy(desc(sessions.lastSeenAt));
  return rows.filter((row) => row.sessionVersion === filter.sessionVersion || row.id === filter.currentId);
}

/** Ends one session of `userId` (another person's id ends nothing); the row as it was, or undefined. */
export async function endSessionOf(db: Database, userId: string, id: string, now: Date): Promise<SessionRow | undefined> {
  const [row] = await db
    .update(sessions)
    .set({ endedAt: now })
    .where(and(eq(sessions.id, id), eq(sessions.userId, userId), isNull(sessions.endedAt)))
    .returning();
  return row;
}

/** Ends every session of `userId` except `keepId` (none kept when undefined); the rows ended. */
export async function endSessionsOf(db: Database, userId: string, keepId: string | undefined, now: Date): Promise<SessionRow[]> {
  return db
    .update(sessions)
    .set({ endedAt: now })
    .where(and(eq(sessions.userId, userId), isNull(sessions.endedAt), ...(keepId ? [ne(sessions.id, keepId)] : [])))
    .returning();
}

/** A session renewed across a change that bumped the version carries the new one. */
export async function recordSessionVersion(db: Database, id: string, userId: string, sessionVersion: number): Promise<void> {
  await db
    .update(sessions)
    .set({ sessionVersion })
    .where(and(eq(sessions.id, id), eq(sessions.userId, userId)));
}

/** Every session row of `userId`, ended or not (the data export). */
export async function sessionRecordsOf(db: Database, userId: string): Promise<SessionRow[]> {
  return db.select().from(sessions).where(eq(sessions.userId, userId)).orderBy(desc(sessions.createdAt));
}
