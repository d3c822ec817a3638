import "server-only";
import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "./client";
import { sessions } from "./schema";

export interface NewSession {
  id: string;
  userId: string;
  userAgent?: string;
  ipPrefix?: string;
  sessionVersion?: number;
}

export async function insertSession(db: Database, session: NewSession, now: Date): Promise<void> {
  await db.insert(sessions).values({ ...session, createdAt: now, lastSeenAt: now });
}

/**
 * Whether session `id` of `userId` is still live, recording `now` as its last activity when it is (one
 * statement): false for an ended session and for one this server never recorded.
 */
export async function touchLiveSession(db: Database, id: string, userId: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(sessions)
    .set({ lastSeenAt: now })
    .where(and(eq(sessions.id, id), eq(sessions.userId, userId), isNull(sessions.endedAt)))
    .returning({ id: sessions.id });
  return rows.length > 0;
}

/** Ends a session for good (an ended one keeps its first end time). */
export async function endSessionRecord(db: Database, id: string, now: Date): Promise<void> {
  await db
    .update(sessions)
    .set({ endedAt: now })
    .where(and(eq(sessions.id, id), isNull(sessions.endedAt)));
}
