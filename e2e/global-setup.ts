import { dirname } from "node:path";
import type { FullConfig } from "@playwright/test";
import { startTestStack } from "./support/app-server";

/**
 * Starts what the specs run against: a throwaway Redis, the SMTP sink and the production build
 * (`next start`) wired to both (e2e/support/app-server.ts startTestStack; it builds first when there is
 * no build, so `npx playwright test` works alone). Values for the workers go through process.env, which
 * Playwright passes on to them. E2E_UPSTASH=1 also starts the Upstash bridge and passes
 * UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN to the app.
 *
 * The developer variables of .env.local (Resend key, Upstash database, AUTH_URL) are blanked
 * (blankDeveloperEnv), the specs act as the trusted proxy (TRUST_PROXY=true; each sends its own
 * X-Forwarded-For, see support/fixtures.ts), and the log goes to test-results/next-server.log.
 */
export default async function globalSetup(config: FullConfig) {
  const root = config.configFile ? dirname(config.configFile) : process.cwd();
  const stack = await startTestStack({
    root,
    upstash: process.env.E2E_UPSTASH === "1",
    // "Email me a sign-in code" is off by default; e2e/recovery.spec.ts walks it.
    env: { SIGN_IN_BY_CODE: "true" },
  });
  const { baseUrl, redis, sink, databaseUrl, logFile } = stack;

  process.env.BASE_URL = baseUrl;
  process.env.E2E_MAILBOX_URL = sink.mailboxUrl;
  process.env.E2E_REDIS_URL = redis.url;
  process.env.E2E_DATABASE_URL = databaseUrl;
  // Shared with the workers so a spec can derive the code store's keys (lib/config.ts hmacKey,
  // lib/limits.ts emailId) and age a code record instead of waiting out its 10 minutes.
  process.env.E2E_AUTH_SECRET = stack.authSecret;
  console.log(`[e2e] app ${baseUrl}, redis ${redis.url}, smtp 127.0.0.1:${sink.port}, log ${logFile}`);
  return stack.stop;
}
