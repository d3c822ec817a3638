import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase, type Database } from "@/db/client";
import { users, type Role, type User } from "@/db/schema";
import { parseConfig } from "@/lib/platform/config";
import { createEnrolmentCodes } from "@/lib/credentials/staff-enrolment";
import { openFreshTestDatabase, testDatabaseBackend } from "./test-database";

/** Shared by the issue-6 tests (second factor, audit log, admin area, metrics, create-admin). */

export const testConfig = parseConfig({ NODE_ENV: "test", AUTH_SECRET: "test-secret-for-admin-tests-0123456789" });

/**
 * A fresh migrated libSQL file database in its own temporary directory; in the "sqld" Vitest project a fresh
 * database on sqld (testing/test-database.ts), which has no file.
 */
export async function freshDatabase(prefix: string): Promise<{ db: Database; close: () => void; file: string }> {
  if (testDatabaseBackend === "sqld") {
    const handle = await openFreshTestDatabase();
    return {
      db: handle.db,
      close: () => handle.client.close(),
      get file(): string {
        throw new Error("A database on sqld has no file: keep this test out of the sqld project (vitest.config.mts).");
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
  const file = path.join(dir, "app.db");
  const handle = openDatabase(`file:${file}`);
  await handle.ready;
  return {
    db: handle.db,
    file,
    close: () => {
      handle.client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Inserts an account directly (verified and active unless told otherwise). */
export async function insertUser(
  db: Database,
  values: { email: string; role?: Role; passwordHash?: string; verified?: boolean; active?: boolean; createdAt?: Date; name?: string },
): Promise<User> {
  const verified = values.verified ?? true;
  const [row] = await db
    .insert(users)
    .values({
      id: randomUUID(),
      email: values.email,
      name: values.name ?? values.email.split("@")[0]!,
      passwordHash: values.passwordHash ?? "$argon2id$v=19$m=19456,t=2,p=1$not-a-real-hash",
      role: values.role ?? "customer",
      isActive: values.active ?? verified,
      emailVerifiedAt: verified ? (values.createdAt ?? new Date()) : null,
      ...(values.createdAt ? { createdAt: values.createdAt, updatedAt: values.createdAt } : {}),
    })
    .returning();
  return row!;
}

/** The enrolment code create-admin would print for this account (issued as it does). */
export async function issueEnrolmentCode(db: Database, userId: string, now: () => number = Date.now): Promise<string> {
  return (await createEnrolmentCodes({ db, config: testConfig, now }).issue(userId)).code;
}
