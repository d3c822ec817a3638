import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { Database } from "@/db/client";
import { users } from "@/db/schema";
import { openFreshTestDatabase, type TestDatabaseHandle } from "./support/test-database";
import { countUnverifiedAccounts, createCleanupHandler, deleteUnverifiedAccounts, hasCronSecret } from "@/lib/cleanup";

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
    name: email.split("@")[0]!,
    passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$not-a-real-hash",
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
    expect(await remainingEmails()).toEqual([
      "old-verified-late@example.test",
      "old-verified@example.test",
      "young-unverified@example.test",
    ]);
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
  const request = (authorization?: string) =>
    new Request("http://localhost/api/cron/cleanup", { headers: authorization ? { authorization } : {} });

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
      name: "Old",
      passwordHash: "x",
      createdAt: new Date(NOW.getTime() - 30 * DAY),
      updatedAt: new Date(NOW.getTime() - 1 * DAY),
    });
    expect(await deleteUnverifiedAccounts(db, { olderThanDays: 7, now: NOW })).toBe(0);
    expect(await remainingEmails()).toEqual(["old-but-active@example.test"]);
  });
});
