import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openDatabase, type Database } from "@/db/client";
import journal from "@/db/migrations/meta/_journal.json";
import * as schema from "@/db/schema";
import { readMigrationStatus, runHealthChecks } from "@/lib/platform/health";
import type { CodeStore } from "@/lib/store/code-store";

let dir: string;
let migrated: ReturnType<typeof openDatabase>;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "health-test-"));
  migrated = openDatabase(`file:${path.join(dir, "migrated.db")}`);
  await migrated.ready;
});

afterAll(() => {
  migrated.client.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Only ping() is used by the health check. */
const store = (ping: () => Promise<void>) => ({ ping }) as unknown as CodeStore;

function unmigratedDatabase(): Database {
  return drizzle(createClient({ url: `file:${path.join(dir, "empty.db")}` }), { schema });
}

describe("readMigrationStatus", () => {
  it("counts the applied migrations against the journal", async () => {
    expect(await readMigrationStatus(migrated.db)).toEqual({ applied: journal.entries.length, expected: journal.entries.length, pending: [] });
  });

  it("lists every journal entry as pending on a database that was never migrated", async () => {
    const status = await readMigrationStatus(unmigratedDatabase());
    expect(status).toEqual({ applied: 0, expected: journal.entries.length, pending: journal.entries.map((e) => e.tag) });
  });
});

describe("runHealthChecks", () => {
  const base = {
    isProduction: true,
    codeStoreKind: "redis" as const,
    mailKind: "smtp" as const,
    database: async () => migrated.db,
    codeStore: async () => store(async () => {}),
  };

  it("reports ok with each dependency's status", async () => {
    const report = await runHealthChecks(base);
    expect(report.status).toBe("ok");
    expect(report.failing).toBeUndefined();
    expect(report.checks.database).toMatchObject({ ok: true, migrations: { applied: journal.entries.length, expected: journal.entries.length } });
    expect(report.checks.codeStore).toMatchObject({ ok: true, kind: "redis" });
    expect(report.checks.mail).toEqual({ ok: true, kind: "smtp" });
  });

  it("names a code store that never answers, within its timeout", async () => {
    const started = Date.now();
    const report = await runHealthChecks({ ...base, codeStore: async () => store(() => new Promise(() => {})), timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(report.status).toBe("error");
    expect(report.failing).toEqual(["codeStore"]);
    expect(report.checks.codeStore).toMatchObject({ ok: false, error: "timed out after 300 ms" });
    expect(report.checks.database.ok).toBe(true);
  });

  it("does not repeat a driver's error text (it can quote a URL with a password)", async () => {
    const report = await runHealthChecks({
      ...base,
      codeStore: async () => store(() => Promise.reject(new Error("connect ECONNREFUSED redis://user:hunter2@10.0.0.1:6379"))),
    });
    expect(report.failing).toEqual(["codeStore"]);
    expect(JSON.stringify(report)).not.toMatch(/hunter2|redis:\/\/|10\.0\.0\.1/);
  });

  it("fails the database when migrations are not applied", async () => {
    const report = await runHealthChecks({ ...base, database: async () => unmigratedDatabase() });
    expect(report.failing).toEqual(["database"]);
    expect(report.checks.database).toMatchObject({ ok: false, migrations: { applied: 0, expected: journal.entries.length } });
    expect(report.checks.database.error).toMatch(/migrations not applied/);
  });

  it("fails the database when it cannot be opened", async () => {
    const report = await runHealthChecks({ ...base, database: () => Promise.reject(new Error("SERVER_ERROR libsql://db.turso.io?authToken=abc")) });
    expect(report.failing).toEqual(["database"]);
    expect(JSON.stringify(report)).not.toMatch(/authToken|turso/);
  });

  it("fails mail only when production has no transport", async () => {
    expect((await runHealthChecks({ ...base, mailKind: "outbox" })).failing).toEqual(["mail"]);
    expect((await runHealthChecks({ ...base, isProduction: false, mailKind: "outbox" })).status).toBe("ok");
  });
});

describe("GET /api/health", () => {
  it("answers 503 naming the code store within about 3 s when Redis is dead, without secrets", async () => {
    vi.resetModules();
    const env = { REDIS_URL: "redis://:hunter2@127.0.0.1:9", DATABASE_URL: `file:${path.join(dir, "route.db")}` };
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    const holder = globalThis as { __database?: { client: { close(): void } }; __codeStore?: unknown };
    const savedHolder = { database: holder.__database, codeStore: holder.__codeStore };
    delete holder.__database;
    delete holder.__codeStore;
    try {
      const { GET, dynamic } = await import("@/app/api/health/route");
      expect(dynamic).toBe("force-dynamic");
      const started = Date.now();
      const response = await GET();
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(response.status).toBe(503);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const text = await response.text();
      expect(text).not.toMatch(/hunter2|redis:\/\/|127\.0\.0\.1|file:/);
      const body = JSON.parse(text);
      expect(body).toMatchObject({
        status: "error",
        failing: ["codeStore"],
        checks: { database: { ok: true }, codeStore: { ok: false, kind: "redis" }, mail: { ok: true, kind: "outbox" } },
      });
    } finally {
      (holder.__database as { client: { close(): void } } | undefined)?.client.close();
      holder.__database = savedHolder.database;
      holder.__codeStore = savedHolder.codeStore;
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
