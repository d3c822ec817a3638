import { dirname } from "node:path";
import type { FullConfig } from "@playwright/test";
import { applyMigrations, openDatabase } from "../db/client";
import { startTestStack, type TestStack } from "../testing/services/app-server";
import { startSqld } from "../testing/services/sqld-server";

/**
 * Starts what the specs run against: a throwaway Redis, the SMTP sink and the production build
 * (`next start`) wired to both (testing/services/app-server.ts startTestStack; it builds first when there is
 * no build, so `npx playwright test` works alone). Beside it, sharing that Redis and sink, two more
 * instances of the same build for the walk-* projects (playwright.config.ts): one on a real libSQL server
 * (sqld, over the WebSocket protocol, with a JWT) and one whose code store is reached through the Upstash
 * REST adapter. Values for the workers go through process.env, which Playwright passes on to them.
 *
 * The developer variables of .env.local (Resend key, Upstash database, AUTH_URL) are blanked
 * (blankDeveloperEnv), the specs act as the trusted proxy (TRUST_PROXY=true; each sends its own
 * X-Forwarded-For, see support/fixtures.ts), and the logs go to test-results/next-server*.log.
 */
export default async function globalSetup(config: FullConfig) {
  const root = config.configFile ? dirname(config.configFile) : process.cwd();
  // "Email me a sign-in code" is off by default; e2e/recovery.spec.ts walks it.
  const env = { SIGN_IN_BY_CODE: "true" };
  const stack = await startTestStack({ root, env });
  const { baseUrl, redis, sink, databaseUrl, logFile, authSecret } = stack;
  const stops: Array<() => Promise<void>> = [stack.stop];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop();
  };

  try {
    const sqld = await startSqld();
    stops.push(() => sqld.dispose());
    // A remote database is migrated at deploy time (npm run db:migrate), never by the app.
    const migrating = openDatabase(sqld.url, sqld.token);
    await applyMigrations(migrating.db);
    migrating.client.close();

    const shared = { redis, sink };
    const started: TestStack[] = await Promise.all([
      startTestStack({
        root,
        env,
        authSecret,
        shared,
        // Ready once the signup page renders: its first request also opens the WebSocket to sqld.
        readyPath: "/register",
        logFile: `${root}/test-results/next-server-sqld.log`,
        database: { url: sqld.url.replace("http:", "ws:"), authToken: sqld.token },
      }),
      startTestStack({ root, env, authSecret, shared, upstash: true, readyPath: "/register", logFile: `${root}/test-results/next-server-upstash.log` }),
    ]);
    for (const s of started) stops.push(s.stop);
    const [onSqld, onUpstash] = started;
    process.env.BASE_URL_SQLD = onSqld!.baseUrl;
    process.env.BASE_URL_UPSTASH = onUpstash!.baseUrl;
    console.log(`[e2e] walk-sqld app ${onSqld!.baseUrl} (sqld ${sqld.url}), walk-upstash app ${onUpstash!.baseUrl} (bridge ${onUpstash!.bridge!.url})`);
  } catch (error) {
    await stopAll();
    throw error;
  }

  process.env.BASE_URL = baseUrl;
  process.env.E2E_MAILBOX_URL = sink.mailboxUrl;
  process.env.E2E_REDIS_URL = redis.url;
  process.env.E2E_DATABASE_URL = databaseUrl;
  // Shared with the workers so a spec can derive the code store's keys (lib/platform/config.ts hmacKey,
  // lib/codes/limits.ts emailId) and age a code record instead of waiting out its 10 minutes.
  process.env.E2E_AUTH_SECRET = authSecret;
  console.log(`[e2e] app ${baseUrl}, redis ${redis.url}, smtp 127.0.0.1:${sink.port}, log ${logFile}`);
  return stopAll;
}
