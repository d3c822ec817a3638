/** Where the bench runs and the environment it gives the server. */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(__dirname, "../..");
export const RESULTS_DIR = join(ROOT, "bench-results");

/**
 * The heap sizes `npm start` runs the server with (package.json): left alone, V8 grows the heap lazily to
 * several hundred MB on a machine with plenty of memory, although the app's live heap is well under 100 MB.
 */
export function productionNodeOptions(): string {
  const start = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts.start as string;
  return (start.match(/--max-(old|semi)-space-size=\d+/g) ?? []).join(" ");
}

/**
 * RATE LIMITS OFF FOR THE BENCH. Every request comes from 127.0.0.1, so per-IP (and per-email) limits would
 * turn the load into 429s. Limits the bench must not trip are set very high here.
 * The names below are the ones lib/platform/config.ts reads today; unknown names are harmless.
 */
export const BENCH_RATE_LIMIT_ENV: Record<string, string> = {
  REGISTER_PER_IP_PER_HOUR: "1000000000",
  RESEND_PER_IP_PER_HOUR: "1000000000",
  LOGIN_FAILURES_PER_IP: "1000000000",
  LOGIN_FAILURES_PER_ACCOUNT: "1000000000",
  LOGIN_LOCKOUT_AFTER: "1000000000",
  VERIFY_FAILURES_PER_HOUR: "1000000000",
  VERIFY_FAILURES_PER_IP_PER_HOUR: "1000000000",
  VERIFY_FAILURES_PER_DAY: "1000000000",
  OTP_SENDS_PER_HOUR: "1000000000",
  OTP_SENDS_PER_DAY: "1000000000",
  // Not a refusal but a slowdown: above this many wrong codes an hour across all addresses every code check waits
  // CODE_FAILURE_ALARM_DELAY_MS (lib/codes/guessing-alarm.ts). The soak's wrong codes pass the default 2,000 within ten minutes.
  CODE_FAILURE_ALARM_PER_HOUR: "1000000000",
};
