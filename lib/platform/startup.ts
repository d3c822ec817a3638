import "server-only";
import { exit } from "node:process";
import { pingDatabase } from "@/db/migration-status";
import { getDatabase } from "@/db/client";
import { databaseOutageOf, logDatabaseOutage, OUTAGE_ADVICE } from "@/db/outage";
import { ConfigError, getConfig } from "./config";
import { withTimeout } from "./health";

/** How long the start-up check waits for a remote database before calling it unreachable. */
const DATABASE_CHECK_TIMEOUT_MS = 10_000;

/**
 * Validates the configuration, refusing to start in production with what cannot work there, and opens
 * the database (migrating the embedded file database). In production a remote database must answer once:
 * with a wrong token every request would fail, and the server should not look alive meanwhile.
 */
export async function startServer(): Promise<void> {
  let config;
  try {
    config = getConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    refuseToStart(error.message);
  }
  const db = await getDatabase();
  if (config.isProduction && !config.database.isLocalFile) {
    try {
      await withTimeout(() => pingDatabase(db), DATABASE_CHECK_TIMEOUT_MS);
    } catch (error) {
      const outage = databaseOutageOf(error);
      if (!outage) throw error;
      logDatabaseOutage(outage, "startup");
      refuseToStart(
        `The database at DATABASE_URL cannot be used: ${OUTAGE_ADVICE[outage.outage]}\nCheck DATABASE_URL and DATABASE_AUTH_TOKEN (npm run doctor names the problem).`,
      );
    }
  }
}

function refuseToStart(message: string): never {
  console.error(`\n${message}\n\nSee .env.example and the README. Refusing to start.\n`);
  // A server that cannot work should not look alive to a health check or a process manager.
  exit(1);
}
