import "server-only";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { createClient, type Client } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { getConfig } from "@/lib/platform/config";
import * as schema from "./schema";

export type Database = LibSQLDatabase<typeof schema>;

interface DatabaseHandle {
  client: Client;
  db: Database;
  ready: Promise<void>;
}

const MIGRATIONS_FOLDER = path.join(process.cwd(), "db", "migrations");

export async function applyMigrations(db: Database): Promise<void> {
  await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
}

/**
 * Opens a database. A local file (the embedded default) is migrated on open; a remote database is
 * migrated by `npm run db:migrate` at deploy time, so serverless cold starts do not race to migrate it.
 */
export function openDatabase(url: string, authToken?: string): DatabaseHandle {
  if (url.startsWith("file:")) {
    const file = url.slice("file:".length);
    if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  }
  // A local file is driven synchronously, one statement at a time: one connection is all it uses, and it
  // is the one the pragmas below reach (they are per connection).
  const client = createClient({ url, authToken, ...(url.startsWith("file:") ? { concurrency: 1 } : {}) });
  const db = drizzle(client, { schema });
  const ready = (async () => {
    if (url.startsWith("file:")) {
      // busy_timeout first: waits for a lock instead of failing, also while another instance sharing the
      // file migrates it at start. WAL lets readers run beside the writer.
      await client.execute("PRAGMA busy_timeout = 5000");
      await client.execute("PRAGMA journal_mode = WAL");
      // Safe with WAL (a crash cannot corrupt the file; a power cut may lose the last commits) and ~5x
      // cheaper per write than FULL, which matters because writes run on the event loop.
      await client.execute("PRAGMA synchronous = NORMAL");
      await applyMigrations(db);
    }
  })();
  return { client, db, ready };
}

const holder = globalThis as { __database?: DatabaseHandle };

/** The process-wide database, created on first use (never at import time: `next build` imports every route). */
export async function getDatabase(): Promise<Database> {
  if (!holder.__database) {
    const { url, authToken } = getConfig().database;
    holder.__database = openDatabase(url, authToken);
  }
  await holder.__database.ready;
  return holder.__database.db;
}
