import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase, type Database } from "@/db/client";
import { users, type Role, type User } from "@/db/schema";
import type { Accounts } from "@/lib/accounts/accounts";
import { hashPassword } from "@/lib/credentials/passwords";
import { parseConfig } from "@/lib/platform/config";
import { wireServices, type Services } from "@/lib/platform/runtime";
import { MemoryCodeStore } from "@/lib/store/memory";
import { vi } from "vitest";
import { createEnrolmentCodes } from "@/lib/credentials/staff-enrolment";
import { createSecondFactor, totpCodeAt, type PendingEnrolment } from "@/lib/credentials/totp";
import { CapturingMailer } from "./service-harness";
import { openFreshTestDatabase, testDatabaseBackend } from "./test-database";

/** Shared by the staff tests (second factor, audit log, admin area, metrics, create-admin). */

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

/**
 * A staff account (ops@example.test) with an authenticator set up as create-admin and the enrolment page do it,
 * at the current (fake) time; the caller moves the clock on a step, since the enrolment's own code is spent.
 */
export async function enrolledStaff(db: Database, passwordHash: string): Promise<{ staff: User; enrolment: PendingEnrolment }> {
  const staff = await insertUser(db, { email: "ops@example.test", role: "staff", passwordHash });
  const factor = createSecondFactor({ db, config: testConfig, now: () => Date.now() });
  const enrolment = (await factor.pendingEnrolment(staff))!;
  await factor.confirmEnrolment(staff.id, totpCodeAt(enrolment.secret, Date.now()), await issueEnrolmentCode(db, staff.id));
  return { staff, enrolment };
}

export interface StaffLogin {
  db: Database;
  close: () => void;
  store: MemoryCodeStore;
  mailer: CapturingMailer;
  services: Services;
  accounts: Accounts;
  staff: User;
  enrolment: PendingEnrolment;
  passwordHash: string;
}

const staffPasswordHashes = new Map<string, Promise<string>>();

/**
 * For a beforeEach: console.info silenced, a fake clock on Date at 15 January 2030 12:00:15 UTC, a fresh database,
 * the account service on an in-process store and a capturing mailer, and an enrolled staff account with
 * `password`; the clock is then one 30 s step on, past the enrolment's own code. endStaffLogin undoes it.
 */
export async function startStaffLogin(prefix: string, password: string): Promise<StaffLogin> {
  vi.spyOn(console, "info").mockImplementation(() => {});
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.UTC(2030, 0, 15, 12, 0, 15));
  const { db, close } = await freshDatabase(prefix);
  const store = new MemoryCodeStore();
  const mailer = new CapturingMailer();
  const services = wireServices({ db, store, mailer, config: testConfig, now: () => Date.now() });
  const { accounts } = services;
  if (!staffPasswordHashes.has(password)) staffPasswordHashes.set(password, hashPassword(password));
  const passwordHash = await staffPasswordHashes.get(password)!;
  const { staff, enrolment } = await enrolledStaff(db, passwordHash);
  vi.setSystemTime(Date.now() + 30_000);
  return { db, close, store, mailer, services, accounts, staff, enrolment, passwordHash };
}

/** For an afterEach: closes the database, real timers back, mocks restored. */
export function endStaffLogin(login: StaffLogin | undefined): void {
  login?.close();
  vi.useRealTimers();
  vi.restoreAllMocks();
}
