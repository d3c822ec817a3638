import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { FullConfig } from "@playwright/test";
import { freePort } from "./support/free-port";
import { startRedis } from "./support/redis-server";
import { startSmtpSink } from "./support/smtp-sink";
import { startUpstashBridge, type UpstashBridge } from "./support/upstash-bridge";

const BLANKED = ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "RESEND_API_KEY", "SMTP_HOST", "SMTP_USER", "SMTP_PASSWORD", "AUTH_URL"];

/**
 * Starts what the specs run against: a throwaway Redis, the SMTP sink and the production build
 * (`next start`) wired to both. Values for the workers go through process.env, which Playwright
 * passes on to them. E2E_UPSTASH=1 also starts the Upstash bridge and passes
 * UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN to the app.
 */
export default async function globalSetup(config: FullConfig) {
  const root = config.configFile ? dirname(config.configFile) : process.cwd();
  const nextBin = createRequire(join(root, "package.json")).resolve("next/dist/bin/next");
  const childEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };

  // scripts/test-all.mjs builds before Playwright; this keeps `npx playwright test` working alone.
  if (!existsSync(join(root, ".next/BUILD_ID"))) {
    console.log("[e2e] .next/BUILD_ID is missing: running next build");
    const build = spawnSync(process.execPath, [nextBin, "build"], { cwd: root, stdio: "inherit", env: childEnv });
    if (build.status !== 0) throw new Error(`next build failed (exit ${build.status ?? build.signal})`);
  }

  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const teardown = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };

  try {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const sink = await startSmtpSink();
    cleanups.push(() => sink.close());
    let bridge: UpstashBridge | undefined;
    if (process.env.E2E_UPSTASH === "1") {
      bridge = await startUpstashBridge(redis.url);
      cleanups.push(() => bridge!.stop());
    }
    const dataDir = mkdtempSync(join(tmpdir(), "e2e-app-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const databaseUrl = `file:${join(dataDir, "app.db")}`;

    const port = await freePort();
    // Shared with the workers as E2E_AUTH_SECRET, so a spec can derive the code store's keys (lib/config.ts
    // hmacKey, lib/limits.ts emailId) and age a code record instead of waiting out its 10 minutes.
    const authSecret = randomBytes(32).toString("base64");
    const logFile = join(root, "test-results/next-server.log");
    mkdirSync(dirname(logFile), { recursive: true });
    const log = openSync(logFile, "w");
    const server = spawn(process.execPath, [nextBin, "start", "-p", String(port), "-H", "127.0.0.1"], {
      cwd: root,
      // Own process group, so teardown can stop next and anything it forked in one signal.
      detached: true,
      stdio: ["ignore", log, log],
      env: {
        ...childEnv,
        // Blank, not unset: next start would fill unset ones from .env files. The app reads "" as unset,
        // so a developer's Resend key, Upstash database or AUTH_URL cannot leak into the run.
        ...Object.fromEntries(BLANKED.map((key) => [key, ""])),
        NODE_ENV: "production",
        AUTH_SECRET: authSecret,
        AUTH_TRUST_HOST: "true",
        // The specs act as the trusted proxy: each sends its own X-Forwarded-For (see support/fixtures.ts),
        // so per-IP limits apply per test as they would per visitor.
        TRUST_PROXY: "true",
        // "Email me a sign-in code" is off by default; e2e/recovery.spec.ts walks it.
        SIGN_IN_BY_CODE: "true",
        REDIS_URL: redis.url,
        SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
        SMTP_SECURE: "false",
        MAIL_FROM: "Verified Signup <no-reply@example.test>",
        DATABASE_URL: databaseUrl,
        ...(bridge ? { UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: bridge.token } : {}),
      },
    });
    closeSync(log);
    cleanups.push(killGroupOnExit(server));

    const baseUrl = `http://127.0.0.1:${port}`;
    try {
      await waitForOk(baseUrl, server, 60_000);
    } catch (error) {
      const output = readFileSync(logFile, "utf8").slice(-6000);
      throw new Error(`${(error as Error).message}\n--- next start output (${logFile}) ---\n${output}`);
    }

    process.env.BASE_URL = baseUrl;
    process.env.E2E_MAILBOX_URL = sink.mailboxUrl;
    process.env.E2E_REDIS_URL = redis.url;
    process.env.E2E_DATABASE_URL = databaseUrl;
    process.env.E2E_AUTH_SECRET = authSecret;
    console.log(`[e2e] app ${baseUrl}, redis ${redis.url}, smtp 127.0.0.1:${sink.port}, log ${logFile}`);
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

async function waitForOk(url: string, server: ChildProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(`next start exited (${server.exitCode ?? server.signalCode}) before answering`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`GET ${url} did not answer 200 within ${timeoutMs / 1000} s (last: ${last})`);
}

/** Returns a function that stops the server's process group; also stops it if this process exits first. */
function killGroupOnExit(server: ChildProcess): () => Promise<void> {
  const signalGroup = (signal: NodeJS.Signals | 0) => {
    try {
      process.kill(-server.pid!, signal);
      return true;
    } catch {
      return false; // ESRCH: the group is gone
    }
  };
  const onExit = () => signalGroup("SIGKILL");
  process.once("exit", onExit);
  return async () => {
    process.off("exit", onExit);
    signalGroup("SIGTERM");
    const deadline = Date.now() + 5_000;
    while (signalGroup(0)) {
      if (Date.now() > deadline) {
        signalGroup("SIGKILL");
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
}
