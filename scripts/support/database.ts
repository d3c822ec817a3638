import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { createClient, type Client } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import type { Database } from "@/db/client";
import * as schema from "@/db/schema";

/**
 * A connection for the command-line scripts. Unlike db/client.ts's openDatabase it never migrates on open, so
 * a script can report what is applied before it changes anything (or without changing anything: the doctor).
 */
export function connectDatabase(url: string, authToken?: string, options: { createFile?: boolean } = {}): { client: Client; db: Database } {
  const file = localFile(url);
  if (file && options.createFile) mkdirSync(path.dirname(file), { recursive: true });
  const client = createClient({ url, authToken });
  return { client, db: drizzle(client, { schema }) };
}

/** The absolute path of a `file:` database URL (undefined for remote and in-memory databases). */
export function localFile(url: string): string | undefined {
  if (!url.startsWith("file:")) return undefined;
  const file = url.slice("file:".length);
  return file === ":memory:" ? undefined : path.resolve(file.replace(/\?.*$/, ""));
}

export function localFileExists(url: string): boolean {
  const file = localFile(url);
  return file !== undefined && existsSync(file);
}
