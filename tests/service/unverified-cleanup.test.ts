import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { Database } from "@/db/client";
import { NO_PASSWORD, users } from "@/db/schema";
import { findUserByEmail } from "@/db/users";
import type { createAccounts } from "@/lib/accounts/accounts";
import { wireServices, type Services } from "@/lib/platform/runtime";
import { parseConfig } from "@/lib/platform/config";
import type { createRecovery } from "@/lib/accounts/recovery";
import { MemoryCodeStore } from "@/lib/store/memory";
import { CapturingMailer } from "@/testing/service-harness";
import { openFreshTestDatabase, type TestDatabaseHandle } from "@/testing/test-database";
import { countUnverifiedAccounts, createCleanupHandler, deleteUnverifiedAccounts, hasCronSecret } from "@/lib/staff/cleanup";

const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date("2026-03-01T12:00:00Z");
const SECRET = "cron-secret-for-tests-0123456789abcdef";

let handle: TestDatabaseHandle;
let db: Database;

beforeAll(async () => {
  handle = await openFreshTestDatabase();
  db = handle.db;
});

afterAll(() => {
  handle.client.close();
});

beforeEach(async () => {
  await db.delete(users);
});

async function addUser(email: string, createdDaysAgo: number, verifiedDaysAgo?: number) {
  await db.insert(users).values({
    id: email,
    email,
    // As the service leaves them: an unverified account holds no name and no password (lib/accounts/registrations.ts).
    name: verifiedDaysAgo === undefined ? "" : email.split("@")[0]!,
    passwordHash: verifiedDaysAgo === undefined ? NO_PASSWORD : "$argon2id$v=19$m=19456,t=2,p=1$not-a-real-hash",
    isActive: verifiedDaysAgo !== undefined,
    emailVerifiedAt: verifiedDaysAgo === undefined ? null : new Date(NOW.getTime() - verifiedDaysAgo * DAY),
    createdAt: new Date(NOW.getTime() - createdDaysAgo * DAY),
    updatedAt: new Date(NOW.getTime() - createdDaysAgo * DAY),
  });
}

async function remainingEmails(): Promise<string[]> {
  return (await db.select({ email: users.email }).from(users)).map((u) => u.email).sort();
}

describe("deleteUnverifiedAccounts", () => {
  it("deletes unverified accounts older than the retention and keeps young unverified and old verified ones", async () => {
    await addUser("old-unverified@example.test", 8);
    await addUser("very-old-unverified@example.test", 400);
    await addUser("young-unverified@example.test", 6);
    await addUser("old-verified@example.test", 30, 29);
    await addUser("old-verified-late@example.test", 30, 1);

    expect(await countUnverifiedAccounts(db, { olderThanDays: 7, now: NOW })).toBe(2);
    expect(await deleteUnverifiedAccounts(db, { olderThanDays: 7, now: NOW })).toBe(2);
    expect(await remainingEmails()).toEqual(["old-verified-late@example.test", "old-verified@example.test", "young-unverified@example.test"]);
    // Nothing left to do: a second run deletes nothing.
    expect(await deleteUnverifiedAccounts(db, { olderThanDays: 7, now: NOW })).toBe(0);
  });

  it("keeps an account created exactly at the cut-off", async () => {
    await addUser("boundary@example.test", 7);
    expect(await deleteUnverifiedAccounts(db, { olderThanDays: 7, now: NOW })).toBe(0);
    expect(await remainingEmails()).toEqual(["boundary@example.test"]);
  });

  it("follows the configured number of days", async () => {
    await addUser("two-days@example.test", 2);
    expect(await deleteUnverifiedAccounts(db, { olderThanDays: 3, now: NOW })).toBe(0);
    expect(await deleteUnverifiedAccounts(db, { olderThanDays: 1, now: NOW })).toBe(1);
  });

  it("never deletes a verified account, however old", async () => {
    await addUser("ancient-verified@example.test", 3650, 3650);
    expect(await deleteUnverifiedAccounts(db, { olderThanDays: 1, now: NOW })).toBe(0);
    expect(await remainingEmails()).toEqual(["ancient-verified@example.test"]);
  });

  it("refuses a retention below one whole day", async () => {
    await expect(deleteUnverifiedAccounts(db, { olderThanDays: 0, now: NOW })).rejects.toThrow(RangeError);
    await expect(deleteUnverifiedAccounts(db, { olderThanDays: 1.5, now: NOW })).rejects.toThrow(RangeError);
  });
});

describe("hasCronSecret", () => {
  const request = (authorization?: string) => new Request("http://localhost/api/cron/cleanup", { headers: authorization ? { authorization } : {} });

  it("accepts exactly `Bearer <secret>`", () => {
    expect(hasCronSecret(request(`Bearer ${SECRET}`), SECRET)).toBe(true);
  });

  it("refuses a missing, wrong, truncated or differently formed header", () => {
    expect(hasCronSecret(request(), SECRET)).toBe(false);
    expect(hasCronSecret(request("Bearer wrong"), SECRET)).toBe(false);
    expect(hasCronSecret(request(`Bearer ${SECRET.slice(0, -1)}`), SECRET)).toBe(false);
    expect(hasCronSecret(request(`Bearer ${SECRET}x`), SECRET)).toBe(false);
    expect(hasCronSecret(request(SECRET), SECRET)).toBe(false);
    expect(hasCronSecret(request(`Basic ${SECRET}`), SECRET)).toBe(false);
  });
});

describe("GET /api/cron/cleanup handler", () => {
  const call = (handler: ReturnType<typeof createCleanupHandler>, authorization?: string) =>
    handler(new Request("http://localhost/api/cron/cleanup", { headers: authorization ? { authorization } : {} }));

  it("answers 503 and touches nothing when CRON_SECRET is not configured", async () => {
    const database = vi.fn(async () => db);
    const handler = createCleanupHandler({ housekeeping: () => ({ unverifiedRetentionDays: 7 }), database });
    const response = await call(handler, "Bearer anything");
    expect(response.status).toBe(503);
    expect((await response.json()).error.code).toBe("not_configured");
    expect(database).not.toHaveBeenCalled();
  });

  it("answers 401 without the right bearer token and touches nothing", async () => {
    await addUser("old-unverified@example.test", 8);
    const database = vi.fn(async () => db);
    const handler = createCleanupHandler({ housekeeping: () => ({ cronSecret: SECRET, unverifiedRetentionDays: 7 }), database, now: () => NOW });
    for (const header of [undefined, "Bearer nope", SECRET]) {
      const response = await call(handler, header);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
      expect(JSON.stringify(await response.json())).not.toContain(SECRET);
    }
    expect(database).not.toHaveBeenCalled();
    expect(await remainingEmails()).toEqual(["old-unverified@example.test"]);
  });

  it("deletes with the configured retention when the token is right", async () => {
    await addUser("old-unverified@example.test", 8);
    await addUser("young-unverified@example.test", 2);
    await addUser("old-verified@example.test", 30, 29);
    const handler = createCleanupHandler({
      housekeeping: () => ({ cronSecret: SECRET, unverifiedRetentionDays: 7 }),
      database: async () => db,
      now: () => NOW,
    });
    const response = await call(handler, `Bearer ${SECRET}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, deleted: 1, olderThanDays: 7 });
    expect(await remainingEmails()).toEqual(["old-verified@example.test", "young-unverified@example.test"]);
  });
});

describe("the route module wired to the configuration", () => {
  it("reads CRON_SECRET and the retention from the environment", async () => {
    // A fresh module graph reads this environment; the database is this test's file.
    vi.resetModules();
    const env = { CRON_SECRET: SECRET, UNVERIFIED_ACCOUNT_RETENTION_DAYS: "3", DATABASE_URL: handle.url, DATABASE_AUTH_TOKEN: handle.authToken ?? "" };
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    const holder = globalThis as { __database?: unknown };
    const savedDatabase = holder.__database;
    delete holder.__database;
    try {
      const { GET, dynamic } = await import("@/app/api/cron/cleanup/route");
      expect(dynamic).toBe("force-dynamic");
      // Created 4 days before the real clock: older than 3 days.
      await db.insert(users).values({
        id: "route-old",
        email: "route-old@example.test",
        name: "Old",
        passwordHash: "x",
        createdAt: new Date(Date.now() - 4 * DAY),
        updatedAt: new Date(Date.now() - 4 * DAY),
      });
      await addUser("route-verified@example.test", 3650, 3650);
      const unauthorized = await GET(new Request("http://localhost/api/cron/cleanup"));
      expect(unauthorized.status).toBe(401);
      const ok = await GET(new Request("http://localhost/api/cron/cleanup", { headers: { authorization: `Bearer ${SECRET}` } }));
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ ok: true, deleted: 1, olderThanDays: 3 });
      expect(await remainingEmails()).toEqual(["route-verified@example.test"]);
    } finally {
      const opened = holder.__database as { client: { close(): void } } | undefined;
      opened?.client.close();
      holder.__database = savedDatabase;
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

describe("an unverified account that asked for a code recently", () => {
  it("is kept even when it was created long ago", async () => {
    await db.insert(users).values({
      id: "old-but-active",
      email: "old-but-active@example.test",
      name: "",
      passwordHash: NO_PASSWORD,
      createdAt: new Date(NOW.getTime() - 30 * DAY),
      updatedAt: new Date(NOW.getTime() - 1 * DAY),
    });
    expect(await deleteUnverifiedAccounts(db, { olderThanDays: 7, now: NOW })).toBe(0);
    expect(await remainingEmails()).toEqual(["old-but-active@example.test"]);
  });

  describe("through the service (the owner asks for a code, the nightly cleanup runs, the code works)", () => {
    const config = parseConfig({ NODE_ENV: "test", AUTH_SECRET: "test-secret-for-cleanup-tests", SIGN_IN_BY_CODE: "true" });
    const RETENTION_DAYS = config.housekeeping.unverifiedRetentionDays;
    const PASSWORD = "correct horse battery staple";
    let mailer: CapturingMailer;
    let accounts: ReturnType<typeof createAccounts>;
    let services: Services;
    let recovery: ReturnType<typeof createRecovery>;
    let ip = 0;
    const ctx = () => ({ ip: `198.51.100.${++ip % 250}` });

    beforeEach(() => {
      vi.spyOn(console, "info").mockImplementation(() => {});
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(NOW.getTime() - (RETENTION_DAYS + 3) * DAY);
      mailer = new CapturingMailer();
      const deps = { db, store: new MemoryCodeStore(), mailer, config, now: () => Date.now() };
      services = wireServices(deps);
      accounts = services.accounts;
      recovery = services.recovery;
    });

    afterEach(() => {
      vi.useRealTimers();
      vi.restoreAllMocks();
    });

    /** The database stamps rows on its own clock: signups made "long ago" get their stamps moved there. */
    const OLD = () => new Date(NOW.getTime() - (RETENTION_DAYS + 3) * DAY);
    const backdate = async (...emails: string[]) => {
      for (const email of emails)
        await handle.client.execute({
          sql: "UPDATE users SET created_at = ?, updated_at = ? WHERE email = ?",
          args: [OLD().getTime(), OLD().getTime(), email],
        });
    };

    const cleanupNow = () => deleteUnverifiedAccounts(db, { olderThanDays: RETENTION_DAYS, now: new Date(Date.now()) });

    it("an account older than the retention whose owner asked for a new code (resend) is spared, and the code then works", async () => {
      const signup = await accounts.register({ name: "Ada", email: "late@example.test", password: PASSWORD }, ctx());
      await accounts.register({ name: "Idle", email: "idle@example.test", password: PASSWORD }, ctx());
      expect(signup.ok).toBe(true);
      await backdate("late@example.test", "idle@example.test");
      vi.setSystemTime(NOW);

      expect(await accounts.resendCode("late@example.test", ctx())).toEqual({ ok: true, email: "late@example.test", delivery: "sent" });
      expect((await findUserByEmail(db, "late@example.test"))!.updatedAt.getTime()).toBe(NOW.getTime());
      expect(await countUnverifiedAccounts(db, { olderThanDays: RETENTION_DAYS, now: NOW })).toBe(1);
      expect(await cleanupNow()).toBe(1);
      expect(await remainingEmails()).toEqual(["late@example.test"]);

      // The pending signup expired long ago (a day), so its token applies nothing: the owner chooses a password with the code.
      const code = mailer.lastCode("late@example.test");
      const registration = signup.ok ? signup.registration : undefined;
      expect(await accounts.verifyEmail({ email: "late@example.test", otp: code, registration }, ctx())).toEqual({ ok: false, reason: "choose_password" });
      const verified = await accounts.verifyEmail({ email: "late@example.test", otp: code, name: "Ada", password: "velvet hammock orbit lantern 42" }, ctx());
      expect(verified).toMatchObject({ ok: true, signIn: true, user: { email: "late@example.test", isActive: true } });
      expect(await cleanupNow()).toBe(0);
      expect(await remainingEmails()).toEqual(["late@example.test"]);
    });

    it("a re-registration of an old unverified address spares it too, and its own token with its code completes it", async () => {
      await accounts.register({ name: "Ada", email: "again@example.test", password: PASSWORD }, ctx());
      await backdate("again@example.test");
      vi.setSystemTime(NOW);
      const again = await accounts.register({ name: "Ada", email: "again@example.test", password: PASSWORD }, ctx());
      expect(await cleanupNow()).toBe(0);
      // Within a day of the new signup, its own token and the code it sent complete it.
      const verified = await accounts.verifyEmail(
        { email: "again@example.test", otp: mailer.lastCode("again@example.test"), registration: again.ok ? again.registration : undefined },
        ctx(),
      );
      expect(verified).toMatchObject({ ok: true, signIn: false, user: { name: "Ada", isActive: true } });
    });

    it("asking for a sign-in code or a reset code spares an old unverified account too, and that code works", async () => {
      await accounts.register({ name: "Ada", email: "signin@example.test", password: PASSWORD }, ctx());
      await accounts.register({ name: "Ada", email: "reset@example.test", password: PASSWORD }, ctx());
      await backdate("signin@example.test", "reset@example.test");
      vi.setSystemTime(NOW);

      expect(await recovery.requestSignInCode("signin@example.test", ctx())).toEqual({ ok: true });
      expect(await recovery.requestPasswordReset("reset@example.test", ctx())).toEqual({ ok: true });
      expect(await cleanupNow()).toBe(0);

      expect(await recovery.signInWithCode({ email: "signin@example.test", otp: mailer.lastCode("signin@example.test") }, ctx())).toMatchObject({ ok: true });
      const NEW_PASSWORD = "velvet hammock orbit lantern 42";
      expect(
        await recovery.resetPassword({ email: "reset@example.test", otp: mailer.lastCode("reset@example.test"), password: NEW_PASSWORD }, ctx()),
      ).toMatchObject({
        ok: true,
      });
      expect(await accounts.authenticate({ email: "reset@example.test", password: NEW_PASSWORD }, ctx())).toMatchObject({ ok: true });
    });
  });
});
