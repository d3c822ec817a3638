/** The accounts a run creates: fresh addresses, the verified ones the login phases reuse, and seeded rows. */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { createClient as createDbClient } from "@libsql/client";
import type { Reply } from "../load";

export const PASSWORD = "bench password that is long enough"; // >= 15 characters (PASSWORD_MIN_LENGTH)
export const NAME = "Bench User";

const runId = randomBytes(3).toString("hex");
let emailCounter = 0;
export const freshEmail = (tag: string) => `${tag}-${runId}-${emailCounter++}@bench.test`;
/** Accounts the run verified (password PASSWORD), for the login phases. */
export const verifiedEmails: string[] = [];
/** How many accounts the users table holds so far (reported per phase). */
export const database = { accounts: 0 };

/** The registration token a signup's answer carries (sent back with the code to apply its details). */
export function registrationOf(reply: Reply): string {
  return (JSON.parse(reply.body) as { registration: string }).registration;
}

/** Inserts verified accounts straight into the SQLite file until it holds `total` seeded ones. */
export async function seed(databaseUrl: string, passwordHash: string, from: number, to: number): Promise<number> {
  const started = performance.now();
  const db = createDbClient({ url: databaseUrl });
  try {
    await db.execute("PRAGMA busy_timeout = 5000");
    const ROWS = 500; // 10 columns each: 5,000 parameters a statement
    const statements = [];
    const now = Date.now();
    for (let start = from; start < to; start += ROWS) {
      const end = Math.min(to, start + ROWS);
      const args: Array<string | number> = [];
      for (let i = start; i < end; i++) {
        args.push(`seed-${runId}-${i}`, `seed-${i}@bench.test`, NAME, passwordHash, "customer", 1, now, 0, now, now);
      }
      statements.push({
        sql:
          "INSERT INTO users (id, email, name, password_hash, role, is_active, email_verified_at, session_version, created_at, updated_at) VALUES " +
          Array.from({ length: end - start }, () => "(?,?,?,?,?,?,?,?,?,?)").join(","),
        args,
      });
    }
    await db.batch(statements, "write"); // one transaction
    // Fold the WAL back into the file, as after any quiet moment in production; the server should not pay for it.
    await db.execute("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
  return (performance.now() - started) / 1000;
}
