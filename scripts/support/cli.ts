import { ConfigError, parseConfig, type AppConfig } from "@/lib/platform/config";
import { parseCommandLine, type CommandLineOptions } from "./args.mjs";

/** The options every script takes: --env-file FILE (repeatable) and --help / -h. */
const COMMON_OPTIONS = {
  "env-file": { type: "string", multiple: true },
  help: { type: "boolean", short: "h" },
} as const satisfies CommandLineOptions;

/** parseArgs with the script's own options plus --env-file and --help (an unknown option throws). */
export function parseScriptArgs<const T extends CommandLineOptions>(options: T) {
  return parseCommandLine<T & typeof COMMON_OPTIONS>({ ...options, ...COMMON_OPTIONS });
}

/**
 * The configuration a command-line script uses: the environment without the server's start-up guards
 * (AUTH_SECRET, code store, mail transport). A configuration error is printed and gives undefined; anything
 * else is thrown.
 */
export function scriptConfig(): AppConfig | undefined {
  try {
    return parseConfig({ ...process.env, NEXT_PHASE: "phase-production-build" });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return undefined;
  }
}

/** Runs a script's main and exits with the code it returns; an unexpected error is printed and exits 1. */
export function runScript(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
