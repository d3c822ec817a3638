import "server-only";
import { and, asc, count, eq, ne, sql } from "drizzle-orm";
import type { Database } from "./client";
import { authEvents, passkeys, recoveryCodes, sessions, staffEnrolmentCodes, totpCredentials, users, type AuthEventRow } from "./schema";

/** The queries behind deleting an account and exporting what it holds (lib/accounts/account-data.ts). */

/** The security events recorded for `userId`, oldest first. */
export async function authEventsOf(db: Database, userId: string): Promise<AuthEventRow[]> {
  return db.select().from(authEvents).where(eq(authEvents.userId, userId)).orderBy(asc(authEvents.at), asc(authEvents.id));
}

/** How many active admins there are besides `userId`. */
export async function otherActiveAdmins(db: Database, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.role, "admin"), eq(users.isActive, true), ne(users.id, userId)));
  return row?.n ?? 0;
}

/**
 * Deletes the account and every row that belongs to it, in one batch; the user row only if it is not the
 * last active admin (decided in the same statement, so two admins deleting at once cannot both go).
 * Children first and explicitly: the foreign keys' cascades need a pragma a connection may not have set.
 * Whether the user row went.
 */
export async function deleteAccountRows(db: Database, userId: string): Promise<boolean> {
  const lastAdmin = sql`(${users.role} = 'admin' and (select count(*) from ${users} u2 where u2.role = 'admin' and u2.is_active = 1 and u2.id != ${userId}) = 0)`;
  // Each child goes only once the user row is gone: a refused deletion (the last admin) touches nothing.
  const userGone = sql`not exists (select 1 from ${users} where ${users.id} = ${userId})`;
  const [deleted] = await db.batch([
    db
      .delete(users)
      .where(and(eq(users.id, userId), sql`not ${lastAdmin}`))
      .returning({ id: users.id }),
    db.delete(recoveryCodes).where(and(eq(recoveryCodes.userId, userId), userGone)),
    db.delete(totpCredentials).where(and(eq(totpCredentials.userId, userId), userGone)),
    db.delete(staffEnrolmentCodes).where(and(eq(staffEnrolmentCodes.userId, userId), userGone)),
    db.delete(sessions).where(and(eq(sessions.userId, userId), userGone)),
    db.delete(passkeys).where(and(eq(passkeys.userId, userId), userGone)),
  ]);
  return deleted.length > 0;
}
