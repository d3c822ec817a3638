import { exit } from "node:process";
import { getDatabase } from "@/db/client";
import { ConfigError, getConfig } from "./config";

/**
 * Validates the configuration, refusing to start in production with what cannot work there, and opens
 * the database (migrating the embedded file database).
 */
export async function startServer(): Promise<void> {
  try {
    getConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`\n${error.message}\n\nSee .env.example and the README. Refusing to start.\n`);
    // A server that cannot work should not look alive to a health check or a process manager.
    exit(1);
  }
  await getDatabase();
}
