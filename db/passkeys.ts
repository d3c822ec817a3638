import "server-only";
import { and, asc, eq, ne, or, sql } from "drizzle-orm";
import type { Database } from "./client";
import { NO_PASSWORD, passkeys, users, type Passkey } from "./schema";

/** The passkey queries lib/credentials/passkeys.ts needs; each is one statement. */

export async function insertPasskey(db: Database, row: typeof passkeys.$inferInsert): Promise<boolean> {
  const inserted = await db.insert(passkeys).values(row).onConflictDoNothing({ target: passkeys.id }).returning({ id: passkeys.id });
  return inserted.length === 1;
}

export async function findPasskey(db: Database, id: string): Promise<Passkey | undefined> {
  return db.query.passkeys.findFirst({ where: eq(passkeys.id, id) });
}

export async function listPasskeys(db: Database, userId: string): Promise<Passkey[]> {
  return db.select().from(passkeys).where(eq(passkeys.userId, userId)).orderBy(asc(passkeys.createdAt));
}

export async function countPasskeys(db: Database, userId: string): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)` }).from(passkeys).where(eq(passkeys.userId, userId));
  return Number(row?.n ?? 0);
}

/**
 * Records a use: only when the new counter is higher than the stored one, or both are zero (authenticators
 * that do not count, such as synced passkeys). Two assertions racing with the same count: one wins.
 */
export async function recordPasskeyUse(
  db: Database,
  id: string,
  use: { counter: number; backedUp: boolean; deviceType: Passkey["deviceType"]; at: Date },
): Promise<boolean> {
  const result = await db
    .update(passkeys)
    .set({ counter: use.counter, backedUp: use.backedUp, deviceType: use.deviceType, lastUsedAt: use.at })
    .where(and(eq(passkeys.id, id), use.counter === 0 ? eq(passkeys.counter, 0) : sql`${passkeys.counter} < ${use.counter}`));
  return result.rowsAffected === 1;
}

export async function renamePasskey(db: Database, userId: string, id: string, name: string): Promise<boolean> {
  const result = await db
    .update(passkeys)
    .set({ name })
    .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId)));
  return result.rowsAffected === 1;
}

/**
 * Removes a passkey unless it is the account's last way in: the account keeps a password, or another passkey.
 * One statement, so two removals racing cannot take both of the last two.
 */
export async function removePasskeyKeepingAWayIn(db: Database, userId: string, id: string): Promise<"removed" | "last_way_in" | "not_found"> {
  const otherPasskey = db
    .select({ one: sql`1` })
    .from(passkeys)
    .where(and(eq(passkeys.userId, userId), ne(passkeys.id, id)));
  const hasPassword = db
    .select({ one: sql`1` })
    .from(users)
    .where(and(eq(users.id, userId), ne(users.passwordHash, NO_PASSWORD)));
  const result = await db
    .delete(passkeys)
    .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId), or(sql`exists ${otherPasskey}`, sql`exists ${hasPassword}`)));
  if (result.rowsAffected === 1) return "removed";
  return (await findPasskey(db, id))?.userId === userId ? "last_way_in" : "not_found";
}

/** Removes every passkey of an account (it became staff or admin: they are added again with the second factor); how many. */
export async function removeAllPasskeys(db: Database, userId: string): Promise<number> {
  const result = await db.delete(passkeys).where(eq(passkeys.userId, userId));
  return result.rowsAffected;
}

export type { Passkey };
