import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@libsql/client";
import { afterAll } from "vitest";
import { applyMigrations, openDatabase } from "@/db/client";
import { startSqld, type SqldServer } from "@/testing/services/sqld-server";

/**
 * The database a db-facing test file runs on. TEST_DATABASE=sqld (the "sqld" Vitest project) puts every fresh
 * database on a real libSQL server started for the file, over HTTP with a JWT, as a Turso deployment runs;
 * otherwise each is a migrated temp file, as the embedded default runs.
 */
export const testDatabaseBackend: "file" | "sqld" = process.env.TEST_DATABASE === "sqld" ? "sqld" : "file";

/** An open database, with what DATABASE_URL / DATABASE_AUTH_TOKEN must be for the app to open the same one. */
export type TestDatabaseHandle = ReturnType<typeof openDatabase> & { url: string; authToken?: string };

let server: Promise<SqldServer> | undefined;
let count = 0;
const root = mkdtempSync(path.join(tmpdir(), "test-db-"));

// Registered at import, so it belongs to the importing file's run.
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  const started = server;
  server = undefined;
  if (started) await (await started).dispose();
}, 30_000);

/** A fresh, migrated, empty database on the file's backend (the caller closes handle.client). */
export async function openFreshTestDatabase(): Promise<TestDatabaseHandle> {
  if (testDatabaseBackend === "file") {
    const url = `file:${path.join(root, `app-${++count}.db`)}`;
    const handle = openDatabase(url);
    await handle.ready;
    return { ...handle, url };
  }
  const sqld = await (server ??= startSqld());
  await dropEverything(sqld);
  const handle = openDatabase(sqld.url, sqld.token);
  await handle.ready;
  // A remote database is migrated at deploy time (npm run db:migrate), never on open: do it here.
  await applyMigrations(handle.db);
  return { ...handle, url: sqld.url, authToken: sqld.token };
}

/**
 * One server per file, emptied between tests: dropping the tables (children first, which is how foreign keys
 * allow it) also drops their triggers, so the append-only audit table goes too.
 */
async function dropEverything(sqld: SqldServer): Promise<void> {
  const client = createClient({ url: sqld.url, authToken: sqld.token });
  try {
    for (let pass = 0; pass < 10; pass++) {
      const { rows } = await client.execute(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_litestream%'",
      );
      if (rows.length === 0) return;
      for (const { name } of rows) {
        await client.execute(`drop table if exists "${String(name)}"`).catch(() => {
          // Still referenced by a table not yet dropped: the next pass takes it.
        });
      }
    }
    throw new Error("Could not empty the test database on sqld");
  } finally {
    client.close();
  }
}
