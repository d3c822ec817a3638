/**
 * What the bench starts and watches: the product's `next start` (optionally under --cpu-prof), a runnable copy
 * of its build, the floor app's build, and the /proc readings of their CPU and memory. Everything started is
 * registered in `cleanups` and stopped by pid at the end (also on Ctrl-C).
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, cpSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { nextBin, startApp, stopGroupOnExit, waitForOk } from "../../testing/services/app-server";
import { freePort } from "../../testing/services/free-port";
import { RESULTS_DIR, ROOT } from "./environment";
import { writeFloorApp } from "./floor";
import { endpoint } from "./load";
import { progress, progressDone, sleep } from "./progress";

// ---------------------------------------------------------------------------------------------- cleanup

export const cleanups: Array<() => Promise<unknown> | unknown> = [];
let stopping = false;
export async function cleanup() {
  if (stopping) return;
  stopping = true;
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (error) {
      console.error(`cleanup: ${(error as Error).message}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------- /proc

export function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return undefined;
  }
}

/** pid and every descendant of it. */
export function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProc(Number(entry), "stat");
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(Number(entry));
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const child of children.get(pid) ?? []) walk(child);
  };
  walk(rootPid);
  return out;
}

/**
 * The process that serves requests. `next start` may fork a child that sets its title to
 * "next-server (vX)"; prefer that, otherwise the deepest node process in the tree.
 */
export function findServerPid(rootPid: number): number {
  const tree = processTree(rootPid);
  const titled = tree.find((pid) => (readProc(pid, "cmdline") ?? "").startsWith("next-server"));
  return titled ?? tree[tree.length - 1] ?? rootPid;
}

export function rssMb(pid: number): number | undefined {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readProc(pid, "status") ?? "");
  return m ? Number(m[1]) / 1024 : undefined;
}

/** CPU seconds (user + system) a process used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readProc(pid, "stat");
  if (!stat) return NaN;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** CPU seconds the main thread (the event loop, where all JavaScript runs) of a process used so far. */
export function mainThreadCpuSeconds(pid: number): number {
  const stat = readProc(pid, `task/${pid}/stat`);
  if (!stat) return NaN;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds all processes on the machine used so far (from /proc/stat). */
export function machineCpuSeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
  // The cpu line: user nice system idle iowait irq softirq steal.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line;
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** Waits until the rest of the machine uses under a quarter of a core for 6 s in a row (or the time is up). */
export async function waitForQuiet(maxSeconds: number): Promise<void> {
  const deadline = Date.now() + maxSeconds * 1000;
  let quiet = 0;
  while (Date.now() < deadline) {
    const m0 = machineCpuSeconds();
    const b0 = process.cpuUsage();
    await sleep(2_000);
    const own = process.cpuUsage(b0);
    const others = (machineCpuSeconds() - m0 - (own.user + own.system) / 1e6) / 2;
    quiet = others < 0.25 ? quiet + 1 : 0;
    progress(`  waiting for a quiet machine: others use ${others.toFixed(2)} cores (${quiet}/3 quiet samples)`);
    if (quiet >= 3) return progressDone(`  machine quiet (others ${others.toFixed(2)} cores)`);
  }
  progressDone(`  the machine did not get quiet within ${maxSeconds} s: running anyway (see the "other" cpu figures)`);
}

/** The redis-server this process started (a direct child), for its CPU share. */
export function findRedisPid(): number | undefined {
  return processTree(process.pid).find((pid) => (readProc(pid, "comm") ?? "").trim() === "redis-server");
}

// ---------------------------------------------------------------------------------------------- servers

export interface Server {
  pid: number;
  serverPid: number;
  port: number;
  log: string;
  stop(): Promise<void>;
}

export async function startServer(root: string, env: Record<string, string | undefined>, logFile: string, profileDir?: string): Promise<Server> {
  if (!profileDir) {
    const app = await startApp({ root, env, logFile });
    cleanups.push(() => app.stop());
    endpoint.baseUrl = app.url;
    return { pid: app.pid, serverPid: findServerPid(app.pid), port: app.port, log: logFile, stop: app.stop };
  }
  // --cpu-prof is not allowed in NODE_OPTIONS, so this start puts it on node's own command line;
  // otherwise as startApp does it: own process group, stopped by pid (SIGTERM lets V8 write the profile).
  const port = await freePort();
  const log = openSync(logFile, "w");
  const child = spawn(
    process.execPath,
    ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, "--cpu-prof-interval=500", nextBin(root), "start", "-p", String(port), "-H", "127.0.0.1"],
    { cwd: root, detached: true, stdio: ["ignore", log, log], env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...env } as NodeJS.ProcessEnv },
  );
  closeSync(log);
  const stop = stopGroupOnExit(child);
  cleanups.push(stop);
  endpoint.baseUrl = `http://127.0.0.1:${port}`;
  await waitForOk(`${endpoint.baseUrl}/`, child, 60_000).catch((error) => {
    throw new Error(`${(error as Error).message}\n${readFileSync(logFile, "utf8").slice(-3000)}`);
  });
  return { pid: child.pid!, serverPid: findServerPid(child.pid!), port, log: logFile, stop };
}

/**
 * A runnable copy of the production build: .next copied (without its caches); everything else in the
 * project linked (node_modules, db/migrations read from process.cwd() at start, next.config and what it imports).
 */
export function snapshotBuild(dir: string, buildId: string): string {
  const dist = join(ROOT, ".next");
  mkdirSync(dir, { recursive: true });
  cpSync(dist, join(dir, ".next"), {
    recursive: true,
    verbatimSymlinks: true, // .next/node_modules holds relative links into ../../node_modules
    filter: (src) => !["cache", "dev", "trace", "trace-build", "lock"].some((skip) => src === join(dist, skip)),
  });
  const copied = readFileSync(join(dir, ".next/BUILD_ID"), "utf8").trim();
  if (copied !== buildId || readFileSync(join(dist, "BUILD_ID"), "utf8").trim() !== buildId) {
    throw new Error("The build changed while it was being copied (a next build ran at the same time).");
  }
  for (const name of readdirSync(ROOT)) {
    if (name !== ".next" && name !== ".git" && name !== "bench-results") symlinkSync(join(ROOT, name), join(dir, name));
  }
  return dir;
}

/** Builds the floor app once per run (scripts/bench/floor.ts); both the floor and the cold phases use it. */
let floorBuilt = "";
export function buildFloorApp(): string {
  if (floorBuilt) return floorBuilt;
  const dir = join(RESULTS_DIR, "floor-app"); // inside the project: it resolves the project's node_modules
  writeFloorApp(dir, ROOT);
  progress("  floor: building the minimal app (next build)");
  const build = spawnSync(process.execPath, [nextBin(ROOT), "build"], { cwd: dir, encoding: "utf8", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  if (build.status !== 0) throw new Error(`floor app: next build failed (exit ${build.status ?? build.signal})\n${(build.stdout + build.stderr).slice(-3000)}`);
  return (floorBuilt = dir);
}
