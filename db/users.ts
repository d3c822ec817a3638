import "server-only";
import { and, count, eq, isNull, lt, sql } from "drizzle-orm";
import type { Database } from "./client";
import { NO_PASSWORD, users, type User } from "./schema";

/** The user queries the service needs; each is one statement. */

// Every login and signup looks an address up: its statement is built once per database, not per call.
const findByEmailStatements = new WeakMap<Database, ReturnType<typeof prepareFindByEmail>>();
function prepareFindByEmail(db: Database) {
  return db
    .select()
    .from(users)
    .where(eq(users.email, sql.placeholder("email")))
    .limit(1)
    .prepare();
}

export async function findUserByEmail(db: Database, email: string): Promise<User | undefined> {
  let statement = findByEmailStatements.get(db);
  if (!statement) findByEmailStatements.set(db, (statement = prepareFindByEmail(db)));
  return statement.get({ email });
}

export async function findUserById(db: Database, id: string): Promise<User | undefined> {
  return db.query.users.findFirst({ where: eq(users.id, id) });
}

/**
 * Inserts an inactive customer holding no name and no password (NO_PASSWORD): those wait, sealed, beside
 * the signup (lib/accounts/registrations.ts) until the address is proven. Undefined when the email is taken (the
 * unique index decides, also under races).
 */
export async function insertInactiveCustomer(db: Database, input: { id: string; email: string }): Promise<User | undefined> {
  const [row] = await db
    .insert(users)
    .values({ ...input, name: "", passwordHash: NO_PASSWORD })
    .onConflictDoNothing({ target: users.email })
    .returning();
  return row;
}

/** An unverified account asked for a code: the nightly cleanup spares it (it counts from updatedAt). */
export async function markCodeRequested(db: Database, id: string, now: Date): Promise<void> {
  await db
    .update(users)
    .set({ updatedAt: now })
    .where(and(eq(users.id, id), isNull(users.emailVerifiedAt)));
}

/**
 * Marks an unproven address proven and the account active with the name and password that whoever proved
 * it chose (NO_PASSWORD: none yet; they choose one signed in). Only an unverified account changes.
 */
export async function activateUser(db: Database, email: string, credentials: { name: string; passwordHash: string }, now: Date): Promise<User | undefined> {
  const [row] = await db
    .update(users)
    .set({
      name: credentials.name,
      passwordHash: credentials.passwordHash,
      isActive: true,
      emailVerifiedAt: now,
      updatedAt: now,
    })
    .where(and(eq(users.email, email), isNull(users.emailVerifiedAt)))
    .returning();
  return row;
}

/** Never verified, created before the cutoff, and not touched since (no code asked for recently). */
function unverifiedCreatedBefore(cutoff: Date) {
  return and(isNull(users.emailVerifiedAt), lt(users.createdAt, cutoff), lt(users.updatedAt, cutoff));
}

/** Deletes never-verified accounts created before `cutoff` (one statement); returns how many went. */
export async function deleteUnverifiedUsersCreatedBefore(db: Database, cutoff: Date): Promise<number> {
  const result = await db.delete(users).where(unverifiedCreatedBefore(cutoff));
  return result.rowsAffected;
}

/** How many accounts deleteUnverifiedUsersCreatedBefore would delete now (for a dry run). */
export async function countUnverifiedUsersCreatedBefore(db: Database, cutoff: Date): Promise<number> {
  const [row] = await db.select({ n: count() }).from(users).where(unverifiedCreatedBefore(cutoff));
  return row?.n ?? 0;
}

/**
 * Sets a new password and ends every session (the version goes up). A reset by code also proves the
 * address, so a never-verified account becomes verified and active; a deactivated one stays deactivated.
 */
export async function setPassword(db: Database, id: string, passwordHash: string, now: Date, proofOfAddress: boolean): Promise<User | undefined> {
  const [row] = await db
    .update(users)
    .set({
      passwordHash,
      sessionVersion: sql`${users.sessionVersion} + 1`,
      updatedAt: now,
      ...(proofOfAddress
        ? {
            isActive: sql`case when ${users.emailVerifiedAt} is null then 1 else ${users.isActive} end`,
            emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${now.getTime()})`,
          }
        : {}),
    })
    .where(eq(users.id, id))
    .returning();
  return row;
}

/**
 * Moves an account to a proven new address and ends every session; undefined when the address is taken.
 * A pending change's code belongs to the account, not the address (lib/codes/one-time-codes.ts RecordOwner):
 * anything else that ever changes an address must decide what happens to it.
 */
export async function changeEmail(db: Database, id: string, email: string, now: Date): Promise<User | undefined> {
  try {
    // An unverified signup does not own its address (it holds no credentials): the person who just proved the
    // inbox takes the address over, and the signup goes, in the same batch.
    const [, [row]] = await db.batch([
      db.delete(users).where(and(eq(users.email, email), isNull(users.emailVerifiedAt))),
      db
        .update(users)
        .set({ email, sessionVersion: sql`${users.sessionVersion} + 1`, updatedAt: now })
        .where(eq(users.id, id))
        .returning(),
    ]);
    return row;
  } catch (error) {
    // drizzle wraps the driver's error ("Failed query: …"); the UNIQUE violation is in its cause.
    const cause = (error as { cause?: { message?: string } })?.cause;
    if (`${(error as { message?: string })?.message ?? ""} ${cause?.message ?? ""}`.includes("UNIQUE")) return undefined;
    throw error;
  }
}

/** Changes the account and ends every session: the version goes up in the same UPDATE. */
export async function updateUserEndingSessions(
  db: Database,
  id: string,
  changes: Partial<Pick<User, "role" | "isActive" | "name">>,
  now: Date,
): Promise<User | undefined> {
  const [row] = await db
    .update(users)
    .set({ ...changes, sessionVersion: sql`${users.sessionVersion} + 1`, updatedAt: now })
    .where(eq(users.id, id))
    .returning();
  return row;
}

/** Ends every session of the account (the version goes up); its new version, if the account exists. */
export async function raiseSessionVersion(
  db: Database,
  id: string,
  now: Date,
): Promise<{ id: string; sessionVersion: number; isActive: boolean; email: string } | undefined> {
  const [row] = await db
    .update(users)
    .set({ sessionVersion: sql`${users.sessionVersion} + 1`, updatedAt: now })
    .where(eq(users.id, id))
    .returning({ id: users.id, sessionVersion: users.sessionVersion, isActive: users.isActive, email: users.email });
  return row;
}
