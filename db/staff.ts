import "server-only";
import { and, eq, gt, isNull, lt, sql } from "drizzle-orm";
import type { Database } from "./client";
import { staffEnrolmentCodes, users, type Role, type User } from "./schema";

/** Queries of the staff tools (create-admin and the authenticator enrolment code). */

/**
 * An address nobody proved, taken over by the operator: new name and password, verified, active, every
 * session ended. Only while it is still unverified (a verification landing meanwhile leaves it alone).
 */
export async function reclaimUnverifiedAccount(
  db: Database,
  id: string,
  values: { name: string; passwordHash: string; role: Role },
  now: Date,
): Promise<User | undefined> {
  const [row] = await db
    .update(users)
    .set({ ...values, isActive: true, emailVerifiedAt: now, sessionVersion: sql`${users.sessionVersion} + 1`, updatedAt: now })
    .where(and(eq(users.id, id), isNull(users.emailVerifiedAt)))
    .returning();
  return row;
}

/** One live enrolment code per account: a new one replaces the old (and its failure count). */
export async function replaceEnrolmentCode(db: Database, userId: string, codeHash: string, expiresAt: Date, now: Date): Promise<void> {
  const values = { userId, codeHash, expiresAt, failedAttempts: 0, createdAt: now };
  await db
    .insert(staffEnrolmentCodes)
    .values(values)
    .onConflictDoUpdate({ target: staffEnrolmentCodes.userId, set: { codeHash, expiresAt, failedAttempts: 0, createdAt: now } });
}

export async function findLiveEnrolmentCode(db: Database, userId: string, now: Date, maxFailures: number) {
  return db.query.staffEnrolmentCodes.findFirst({
    where: and(eq(staffEnrolmentCodes.userId, userId), gt(staffEnrolmentCodes.expiresAt, now), lt(staffEnrolmentCodes.failedAttempts, maxFailures)),
  });
}

/** Spends the code if it is this one and still live; true when this call spent it (atomic: one winner). */
export async function spendEnrolmentCode(db: Database, userId: string, codeHash: string, now: Date, maxFailures: number): Promise<boolean> {
  const spent = await db
    .delete(staffEnrolmentCodes)
    .where(
      and(
        eq(staffEnrolmentCodes.userId, userId),
        eq(staffEnrolmentCodes.codeHash, codeHash),
        gt(staffEnrolmentCodes.expiresAt, now),
        lt(staffEnrolmentCodes.failedAttempts, maxFailures),
      ),
    );
  return spent.rowsAffected === 1;
}

/** Counts a wrong try; returns the failures so far (undefined when the account has no code). */
export async function countEnrolmentCodeFailure(db: Database, userId: string): Promise<number | undefined> {
  const [row] = await db
    .update(staffEnrolmentCodes)
    .set({ failedAttempts: sql`${staffEnrolmentCodes.failedAttempts} + 1` })
    .where(eq(staffEnrolmentCodes.userId, userId))
    .returning({ failedAttempts: staffEnrolmentCodes.failedAttempts });
  return row?.failedAttempts;
}
