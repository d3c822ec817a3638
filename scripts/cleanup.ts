/**
 * npm run cleanup [-- --days N] [-- --dry-run] [-- --env-file FILE]
 *
 * Deletes accounts whose email address was never verified and that were created more than N days ago
 * (default UNVERIFIED_ACCOUNT_RETENTION_DAYS, 7). Verified accounts are never touched. The same job runs
 * daily on Vercel through GET /api/cron/cleanup (vercel.json).
 */
import { countUnverifiedAccounts, deleteUnverifiedAccounts } from "@/lib/staff/cleanup";
import { migrationsUpToDate, readMigrationStatus } from "@/lib/platform/health";
import { parseScriptArgs, runScript, scriptConfig } from "./support/cli";
import { connectDatabase, localFile, localFileExists } from "./support/database";
import { loadEnvFiles } from "./support/env-files";
import { describeError, describeUrl } from "./support/redact";

const USAGE = "Usage: npm run cleanup [-- --days N] [--dry-run] [--env-file FILE]";

async function main(): Promise<number> {
  const { values } = parseScriptArgs({ days: { type: "string" }, "dry-run": { type: "boolean" } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  loadEnvFiles(values["env-file"]);

  // Only the database and the retention period are needed here, not the server's start-up guards.
  const config = scriptConfig();
  if (!config) return 1;
  const olderThanDays = values.days === undefined ? config.housekeeping.unverifiedRetentionDays : Number(values.days);
  if (!Number.isInteger(olderThanDays) || olderThanDays < 1) {
    console.error(`--days must be a whole number of days, at least 1.\n${USAGE}`);
    return 1;
  }

  const { url, authToken } = config.database;
  if (localFile(url) && !localFileExists(url)) {
    console.log(`${describeUrl(url)} does not exist yet: nothing to clean up.`);
    return 0;
  }
  const { client, db } = connectDatabase(url, authToken);
  try {
    const status = await readMigrationStatus(db);
    if (!migrationsUpToDate(status)) {
      console.error(`${describeUrl(url)} is not migrated (${status.applied} of ${status.expected}): run npm run db:migrate first.`);
      return 1;
    }
    const now = new Date();
    if (values["dry-run"]) {
      const n = await countUnverifiedAccounts(db, { olderThanDays, now });
      console.log(`Dry run: ${n} unverified account(s) created more than ${olderThanDays} day(s) ago would be deleted from ${describeUrl(url)}.`);
      return 0;
    }
    const deleted = await deleteUnverifiedAccounts(db, { olderThanDays, now });
    console.log(`Deleted ${deleted} unverified account(s) created more than ${olderThanDays} day(s) ago from ${describeUrl(url)}.`);
    return 0;
  } catch (error) {
    console.error(`Cleanup failed: ${describeError(error, [authToken])}`);
    return 1;
  } finally {
    client.close();
  }
}

runScript(main);
