import "server-only";
import { sql } from "drizzle-orm";
import type { Database } from "./client";

/** What the health checks, start-up and the scripts read from the database itself. */

/** The cheapest statement that proves the database answers. */
export async function pingDatabase(db: Database): Promise<void> {
  await db.run(sql`select 1`);
}

/** How many migrations drizzle's table records and the newest one's time; undefined when the table does not exist yet. */
export async function readAppliedMigrations(db: Database, migrationsTable: string): Promise<{ applied: number; newest: number | string | null } | undefined> {
  const table = await db.get<{ n: number }>(sql`select count(*) as n from sqlite_master where type = 'table' and name = ${migrationsTable}`);
  if (Number(table?.n ?? 0) === 0) return undefined;
  const row = await db.get<{ applied: number; newest: number | string | null }>(
    sql`select count(*) as applied, max(created_at) as newest from ${sql.identifier(migrationsTable)}`,
  );
  return { applied: Number(row?.applied ?? 0), newest: row?.newest ?? null };
}
