/**
 * npm run db:migrate [-- --env-file .env.production.local]
 *
 * Applies the committed migrations (db/migrations) to DATABASE_URL / DATABASE_AUTH_TOKEN and says what it did.
 * Run it against the production database before (or as part of) a deploy: `next build` does not migrate, and a
 * remote database is never migrated by the running app. A local file database is also migrated when the app starts.
 */
import { applyMigrations } from "@/db/client";
import { databaseOutageOf, OUTAGE_ADVICE } from "@/db/outage";
import { readMigrationStatus, migrationsUpToDate } from "@/lib/platform/health";
import { parseScriptArgs, runScript, scriptConfig } from "./support/cli";
import { connectDatabase } from "./support/database";
import { loadEnvFiles } from "./support/env-files";
import { describeError, describeUrl } from "./support/redact";

const USAGE = "Usage: npm run db:migrate [-- --env-file FILE]   (uses DATABASE_URL and DATABASE_AUTH_TOKEN)";

async function main(): Promise<number> {
  const { values } = parseScriptArgs({});
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const envFiles = loadEnvFiles(values["env-file"]);

  // Migrating needs only the database: the server's start-up guards (AUTH_SECRET, code store, mail) do not apply.
  const database = scriptConfig()?.database;
  if (!database) return 1;

  const target = describeUrl(database.url);
  console.log(`Database: ${target}${database.authToken ? " (auth token set)" : ""}${envFiles.length ? `  [env files: ${envFiles.join(", ")}]` : ""}`);
  const { client, db } = connectDatabase(database.url, database.authToken, { createFile: true });
  try {
    const before = await readMigrationStatus(db);
    console.log(`Before: ${before.applied} of ${before.expected} migrations applied${before.pending.length ? `; pending: ${before.pending.join(", ")}` : ""}`);
    if (migrationsUpToDate(before)) {
      console.log("Nothing to do: the database is up to date.");
      return 0;
    }
    const started = performance.now();
    await applyMigrations(db);
    const after = await readMigrationStatus(db);
    console.log(
      `Applied ${before.pending.length} migration(s) in ${Math.round(performance.now() - started)} ms: ${before.pending.join(", ")}. ` +
        `Now ${after.applied} of ${after.expected} applied.`,
    );
    return migrationsUpToDate(after) ? 0 : 1;
  } catch (error) {
    const outage = databaseOutageOf(error);
    const message = `${outage ? `${OUTAGE_ADVICE[outage.outage]} Driver said: ` : ""}${describeError(error, [database.authToken])}`;
    console.error(`Migration failed on ${target}: ${message}`);
    console.error(
      database.url.startsWith("file:")
        ? "Check that the directory is writable and no other process holds a write lock."
        : "Check DATABASE_URL (libsql://<database>-<org>.turso.io) and DATABASE_AUTH_TOKEN (`turso db tokens create <database>`); a 401 means the token is wrong or expired.",
    );
    return 1;
  } finally {
    client.close();
  }
}

runScript(main);
