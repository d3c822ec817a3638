import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { freePort } from "./free-port";
import { startRedisCluster } from "./redis-cluster";
import { startRedis, type RedisServer } from "./redis-server";
import { startSmtpSink, type SmtpSink } from "./smtp-sink";
import { startUpstashBridge, type UpstashBridge } from "./upstash-bridge";

/**
 * The production build (`next start`) as a child process the tests own: its own process group (so stopping it
 * also stops anything next forked), started with `node node_modules/next/dist/bin/next` (killing `npx` would
 * leave next-server running), stopped by its pid only.
 */

export interface AppServer {
  url: string;
  port: number;
  pid: number;
  logFile: string;
  /** SIGTERM to the process group, SIGKILL after 5 s. Idempotent. */
  stop(): Promise<void>;
}

export interface StartAppOptions {
  /** The project root (holds package.json and .next). */
  root: string;
  /** Added to process.env for the child (NEXT_TELEMETRY_DISABLED=1 is always set). */
  env: Record<string, string | undefined>;
  /** Where next's stdout and stderr go; shown when it fails to start. */
  logFile: string;
  port?: number;
  host?: string;
  /** Answering 200 here means ready. Default "/". */
  readyPath?: string;
  readyTimeoutMs?: number;
}

/**
 * Variables a developer may have in .env.local that must not leak into a test run. Blank, not unset: `next start`
 * fills unset variables from .env files, and the app reads "" as unset.
 */
export const DEVELOPER_ENV_BLANKED = [
  "UPSTASH_REDIS_REST_URL",
  "UPSTASH_REDIS_REST_TOKEN",
  "RESEND_API_KEY",
  "SMTP_HOST",
  "SMTP_USER",
  "SMTP_PASSWORD",
  "AUTH_URL",
] as const;

export function blankDeveloperEnv(): Record<string, string> {
  return Object.fromEntries(DEVELOPER_ENV_BLANKED.map((key) => [key, ""]));
}

export function nextBin(root: string): string {
  return createRequire(join(root, "package.json")).resolve("next/dist/bin/next");
}

/** Runs `next build` when there is no build yet (scripts/test-all.mjs builds before Playwright). */
export function ensureBuild(root: string): void {
  if (existsSync(join(root, ".next/BUILD_ID"))) return;
  console.log("[e2e] .next/BUILD_ID is missing: running next build");
  const build = spawnSync(process.execPath, [nextBin(root), "build"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (build.status !== 0) throw new Error(`next build failed (exit ${build.status ?? build.signal})`);
}

export async function startApp(options: StartAppOptions): Promise<AppServer> {
  const { root, logFile, host = "127.0.0.1", readyPath = "/", readyTimeoutMs = 60_000 } = options;
  const port = options.port ?? (await freePort());
  mkdirSync(dirname(logFile), { recursive: true });
  const log = openSync(logFile, "w");
  const child = spawn(process.execPath, [nextBin(root), "start", "-p", String(port), "-H", host], {
    cwd: root,
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...options.env } as NodeJS.ProcessEnv,
  });
  closeSync(log);
  const stop = stopGroupOnExit(child);

  const url = `http://${host}:${port}`;
  try {
    await waitForOk(`${url}${readyPath}`, child, readyTimeoutMs);
  } catch (error) {
    await stop();
    const output = existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-6000) : "";
    throw new Error(`${(error as Error).message}\n--- next start output (${logFile}) ---\n${output}`);
  }
  return { url, port, pid: child.pid!, logFile, stop };
}

export async function waitForOk(url: string, server: ChildProcess, timeoutMs: number): Promise<void> {
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

/** Returns a function that stops the child's process group; also stops it if this process exits first. */
export function stopGroupOnExit(child: ChildProcess): () => Promise<void> {
  const signalGroup = (signal: NodeJS.Signals | 0) => {
    try {
      process.kill(-child.pid!, signal);
      return true;
    } catch {
      return false; // ESRCH: the group is gone
    }
  };
  const onExit = () => signalGroup("SIGKILL");
  process.once("exit", onExit);
  let stopped: Promise<void> | undefined;
  return () =>
    (stopped ??= (async () => {
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
    })());
}

/** The variables that wire the production app to a test Redis, SMTP sink and database (add blankDeveloperEnv() first). */
export function testAppEnv(options: { authSecret: string; redisUrl: string; smtpPort: number; databaseUrl: string }): Record<string, string> {
  return {
    NODE_ENV: "production",
    AUTH_SECRET: options.authSecret,
    AUTH_TRUST_HOST: "true",
    // The tests act as the trusted proxy: each request sends its own X-Forwarded-For, so per-IP limits apply
    // per simulated visitor.
    TRUST_PROXY: "true",
    REDIS_URL: options.redisUrl,
    SMTP_URL: `smtp://127.0.0.1:${options.smtpPort}`,
    SMTP_SECURE: "false",
    MAIL_FROM: "Verified Signup <no-reply@example.test>",
    DATABASE_URL: options.databaseUrl,
  };
}

/**
 * Waits for a build someone may be writing in `root` right now, then copies it (without caches) into a fresh
 * temp directory beside symlinks to the sources it reads, so a later `next build` in the working tree cannot
 * pull files from under a running server. Runs `next build` first when there is none.
 */
export async function snapshotBuild(root: string, prefix: string): Promise<string> {
  const buildId = join(root, ".next/BUILD_ID");
  const deadline = Date.now() + 180_000;
  // A build in progress has no BUILD_ID yet, or a brand-new one: wait until it has been still for 5 s.
  while (!existsSync(buildId) || Date.now() - statSync(buildId).mtimeMs < 5_000) {
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  ensureBuild(root);
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    for (const name of ["node_modules", "package.json", "next.config.mjs", "db", "public"]) symlinkSync(join(root, name), join(dir, name));
    const before = readFileSync(buildId, "utf8");
    cpSync(join(root, ".next"), join(dir, ".next"), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (source) => !/[\\/]\.next[\\/](cache|dev|trace)([\\/]|$)/.test(source),
    });
    if (existsSync(buildId) && readFileSync(buildId, "utf8") === before && readFileSync(join(dir, ".next/BUILD_ID"), "utf8") === before) return dir;
    rmSync(dir, { recursive: true, force: true });
    if (attempt >= 3) throw new Error("The build in .next kept changing while it was copied");
    await new Promise((r) => setTimeout(r, 5_000));
  }
}

export interface TestStackOptions {
  /** The project root (holds package.json and .next). */
  root: string;
  /**
   * Run from a copy of the build (snapshotBuild) in a temp directory with this prefix; the database and the log
   * go there too. Without it the app runs from `root` (built first when needed), with its database in a temp
   * directory and its log at `logFile`.
   */
  snapshotPrefix?: string;
  /** Without snapshotPrefix: where next's output goes. Default test-results/next-server.log under root. */
  logFile?: string;
  /** Without snapshotPrefix: the prefix of the database's temp directory. Default "e2e-app-". */
  dataDirPrefix?: string;
  readyPath?: string;
  /** Default: 32 random bytes, base64. */
  authSecret?: string;
  /** Also start the Upstash bridge on the Redis and pass UPSTASH_REDIS_REST_URL / _TOKEN to the app. */
  upstash?: boolean;
  /** Added after testAppEnv (SIGN_IN_BY_CODE and the like). */
  env?: Record<string, string | undefined>;
  /** A database the caller started and migrated (sqld) instead of a temp file. */
  database?: { url: string; authToken?: string };
  /** Start a real three-master Redis Cluster instead of one redis-server (the app is told nothing: it asks). */
  redisCluster?: boolean;
  /** Share these instead of starting a Redis and an SMTP sink of its own (the caller stops them). */
  shared?: { redis: RedisServer; sink: SmtpSink };
}

export interface TestStack {
  app: AppServer;
  baseUrl: string;
  redis: RedisServer;
  sink: SmtpSink;
  bridge?: UpstashBridge;
  databaseUrl: string;
  authSecret: string;
  logFile: string;
  /** Stops everything started, in reverse order, and removes the temp directory. Idempotent. */
  stop(): Promise<void>;
  /** The last 6000 characters of next's output. */
  logs(): string;
}

/** The production app (`next start`) with its own Redis, SMTP sink and temp file database. */
export async function startTestStack(options: TestStackOptions): Promise<TestStack> {
  const authSecret = options.authSecret ?? randomBytes(32).toString("base64");
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    })());

  try {
    let redis: RedisServer;
    let sink: SmtpSink;
    if (options.shared) {
      ({ redis, sink } = options.shared);
    } else {
      redis = options.redisCluster ? asRedisServer(await startRedisCluster()) : await startRedis();
      cleanups.push(() => redis.stop());
      sink = await startSmtpSink();
      cleanups.push(() => sink.close());
    }
    let bridge: UpstashBridge | undefined;
    if (options.upstash) {
      bridge = await startUpstashBridge(redis.url);
      cleanups.push(() => bridge!.stop());
    }
    let root = options.root;
    let dataDir: string;
    let logFile: string;
    if (options.snapshotPrefix) {
      root = dataDir = await snapshotBuild(options.root, options.snapshotPrefix);
      logFile = join(dataDir, "next-server.log");
    } else {
      ensureBuild(root);
      dataDir = mkdtempSync(join(tmpdir(), options.dataDirPrefix ?? "e2e-app-"));
      logFile = options.logFile ?? join(root, "test-results/next-server.log");
    }
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const databaseUrl = options.database?.url ?? `file:${join(dataDir, "app.db")}`;

    const app = await startApp({
      root,
      logFile,
      readyPath: options.readyPath,
      env: {
        // Blank, not unset: a developer's Resend key, Upstash database or AUTH_URL cannot leak into the run.
        ...blankDeveloperEnv(),
        ...testAppEnv({ authSecret, redisUrl: redis.url, smtpPort: sink.port, databaseUrl }),
        DATABASE_AUTH_TOKEN: options.database?.authToken ?? "",
        ...options.env,
        ...(bridge ? { UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: bridge.token } : {}),
      },
    });
    cleanups.push(() => app.stop());
    const logs = () => (existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-6000) : "");
    return { app, baseUrl: app.url, redis, sink, bridge, databaseUrl, authSecret, logFile, stop, logs };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A cluster where a stack expects one server: its URL names the first node, the others are discovered. */
function asRedisServer(cluster: Awaited<ReturnType<typeof startRedisCluster>>): RedisServer {
  return { url: cluster.url, port: cluster.ports[0]!, owned: true, stop: cluster.stop, start: cluster.start };
}
