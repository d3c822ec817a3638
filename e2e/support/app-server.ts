import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { freePort } from "./free-port";

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
