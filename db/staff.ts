import "server-only";
import { and, asc, count, desc, eq, gt, isNotNull, isNull, lt, sql, type SQL } from "drizzle-orm";
import type { Database } from "./client";
import { staffEnrolmentCodes, users, type Role, type User } from "./schema";

/** Queries of the staff tools (the users list, create-admin and the authenticator enrolment code). */

/** `%` and `_` typed into the search box are matched literally. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** One page of the users list (lib/staff/admin.ts), filtered and sorted; a page past the last gives the last. */
export async function findUserPage(
  db: Database,
  query: { q: string; verified: "all" | "verified" | "unverified"; role: "all" | Role; sort: "created_desc" | "created_asc"; page: number },
  pageSize: number,
) {
  const conditions: SQL[] = [];
  if (query.q) conditions.push(sql`${users.email} like ${likePattern(query.q)} escape '\\'`);
  if (query.verified === "verified") conditions.push(isNotNull(users.emailVerifiedAt));
  if (query.verified === "unverified") conditions.push(isNull(users.emailVerifiedAt));
  if (query.role !== "all") conditions.push(eq(users.role, query.role));
  const where = conditions.length > 0 ? and(...conditions) : undefined;

  const [{ n: total } = { n: 0 }] = await db.select({ n: count() }).from(users).where(where);
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const page = Math.min(query.page, pages);
  const order = query.sort === "created_asc" ? [asc(users.createdAt), asc(users.id)] : [desc(users.createdAt), desc(users.id)];
  const rows = await db
    .select({
      id: users.id,
      email: users.email,
      name: users.name,
      role: users.role,
      isActive: users.isActive,
      emailVerifiedAt: users.emailVerifiedAt,
      createdAt: users.createdAt,
    })
    .from(users)
    .where(where)
    .orderBy(...order)
    .limit(pageSize)
    .offset((page - 1) * pageSize);
  return { rows, total, page, pages };
}

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

/** A new account, verified and active, with the role the operator gave it. */
export async function insertStaffAccount(
  db: Database,
  values: { id: string; email: string; name: string; passwordHash: string; role: Role },
  now: Date,
): Promise<User | undefined> {
  const [row] = await db
    .insert(users)
    .values({ ...values, isActive: true, emailVerifiedAt: now, createdAt: now, updatedAt: now })
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
