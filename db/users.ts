import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "./client";
import { users, type User } from "./schema";

/** The user queries the service needs; each is one statement. */

export async function findUserByEmail(db: Database, email: string): Promise<User | undefined> {
  return db.query.users.findFirst({ where: eq(users.email, email) });
}

export async function findUserById(db: Database, id: string): Promise<User | undefined> {
  return db.query.users.findFirst({ where: eq(users.id, id) });
}

/** Inserts an inactive customer; undefined when the email is taken (the unique index decides, also under races). */
export async function insertInactiveCustomer(
  db: Database,
  input: { id: string; email: string; name: string; passwordHash: string },
): Promise<User | undefined> {
  const [row] = await db.insert(users).values(input).onConflictDoNothing({ target: users.email }).returning();
  return row;
}

/** Marks an unproven address proven and the account active, applying details held pending beside the code. */
export async function activateUser(
  db: Database,
  email: string,
  pending: { name: string; passwordHash: string } | undefined,
  now: Date,
): Promise<User | undefined> {
  const [row] = await db
    .update(users)
    .set({
      ...pending,
      isActive: true,
      emailVerifiedAt: now,
      updatedAt: now,
    })
    .where(and(eq(users.email, email), isNull(users.emailVerifiedAt)))
    .returning();
  return row;
}
