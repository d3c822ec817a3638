#!/usr/bin/env -S npx tsx
/**
 * `npm run bench`: how close the product runs to its hashing floor.
 *
 * Starts its own redis-server, SMTP sink and `next start` (production build, built when missing) on free
 * loopback ports, runs the phases below against the JSON API, prints a table, writes
 * bench-results/latest.json, and stops what it started by pid (also on Ctrl-C).
 *
 *   npm run bench                      full run (about 3 minutes on 2 cores)
 *   npm run bench -- --quick           short run (about a minute)
 *   npm run bench -- --profile         run the server under `node --cpu-prof` and summarise where each phase's
 *                                      main-thread time went (bench-results/profile-summary.txt; timings inflated)
 *   npm run bench -- --only=flow,login skip the other phase groups (ceiling, flow, verify, login, page, scale, floor, cold)
 *   npm run bench -- --env=UV_THREADPOOL_SIZE=2,MALLOC_ARENA_MAX=2   extra environment for the server (experiments)
 *   npm run bench -- --wait-quiet[=600] first wait (up to 600 s) until other processes use under 0.25 of a core for 6 s
 *   npm run bench -- --build           run `next build` first even when a build exists
 *   npm run bench -- --no-snapshot     serve the project's .next itself (default: a copy in a temporary folder,
 *                                      so a build started elsewhere during the run cannot break the server)
 *   Per phase kind (flow, verify, login, page): --flow-c=1,8 --flow-n=100,400 --flow-warmup=10 (a list
 *   gives one run per concurrency; a single count applies to all). --scale=1000,10000,100000 --scale-n=300
 *   --scale-login-c=1,16.
 *
 * Phase group "floor" (scripts/bench-floor.ts) builds and serves a minimal Next app with the same proxy headers and
 * measures a no-op JSON route and a small page (per request with a nonce, and prerendered) the same way: the framework's
 * own cost on this machine, beside the product's.
 *
 * Phase group "cold" (scripts/bench-cold.ts) starts a second server from the same build and times spawn to its first
 * answer, then its first register, verify and login against the same requests warm, beside the floor app's start.
 *
 * The load generator, the SMTP sink (which parses every message) and Redis share the machine with the server:
 * the table reports the CPU each of the bench process and the server used per phase, so that share is visible.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, symlinkSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { createClient as createDbClient } from "@libsql/client";
import { blankDeveloperEnv, ensureBuild, nextBin, startApp, stopGroupOnExit, waitForOk } from "../testing/services/app-server";
import { freePort } from "../testing/services/free-port";
import { extractCode, type ReceivedMail } from "../testing/mailbox";
import { startRedis, type RedisServer } from "../testing/services/redis-server";
import { startSmtpSink, type SmtpSink } from "../testing/services/smtp-sink";
import { hashPassword, verifyPassword } from "../lib/credentials/passwords";
import { startCold } from "./bench-cold";
import { FLOOR_PATHS, writeFloorApp } from "./bench-floor";
import { summariseProfile, type ProfileSummary, type ProfileWindow } from "./bench-profile";

const ROOT = resolve(__dirname, "..");
const RESULTS_DIR = join(ROOT, "bench-results");
const PASSWORD = "bench password that is long enough"; // >= 15 characters (PASSWORD_MIN_LENGTH)
const NAME = "Bench User";

/**
 * RATE LIMITS OFF FOR THE BENCH. Every request comes from 127.0.0.1, so per-IP (and per-email) limits would
 * turn the load into 429s. Limits the bench must not trip are set very high here.
 * The names below are the ones lib/platform/config.ts reads today; unknown names are harmless.
 */
/**
 * The heap cap `npm start` runs the server with (package.json): left alone, V8 grows the heap lazily to
 * several hundred MB on a machine with plenty of memory, although the app's live heap is well under 100 MB.
 */
function productionNodeOptions(): string {
  const start = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts.start as string;
  return /--max-old-space-size=\d+/.exec(start)?.[0] ?? "";
}

const BENCH_RATE_LIMIT_ENV: Record<string, string> = {
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
};


// ---------------------------------------------------------------------------------------------- options

interface PhaseOptions {
  c: number[];
  n: number[];
  warmup: number;
}
interface Options {
  quick: boolean;
  profile: boolean;
  build: boolean;
  /** Run the server from a copy of .next (default; --no-snapshot runs it from the project's .next). */
  snapshot: boolean;
  only: Set<string> | null;
  flow: PhaseOptions;
  verify: PhaseOptions;
  login: PhaseOptions;
  page: PhaseOptions;
  /** The framework floor (scripts/bench-floor.ts): the first concurrency and count are used. */
  floor: PhaseOptions;
  scale: number[];
  scaleN: number;
  scaleLoginC: number[];
  ceilingN: number;
  /** Before starting, wait up to this many seconds for the machine to be idle (shared machines). */
  waitQuietSeconds: number;
  /** Extra environment for the server (experiments such as UV_THREADPOOL_SIZE=2). */
  serverEnv: Record<string, string>;
}

function parseOptions(argv: string[]): Options {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`Unknown argument ${arg} (see the comment at the top of scripts/bench.ts)`);
    flags.set(m[1], m[2] ?? "true");
  }
  const known = new Set(["quick", "profile", "build", "no-snapshot", "only", "scale", "scale-n", "scale-login-c", "ceiling-n", "env", "wait-quiet", "help"]);
  for (const kind of ["flow", "verify", "login", "page", "floor"]) for (const s of ["c", "n", "warmup"]) known.add(`${kind}-${s}`);
  for (const key of flags.keys()) if (!known.has(key)) throw new Error(`Unknown flag --${key}`);
  if (flags.has("help")) {
    console.log(readFileSync(__filename, "utf8").split("*/")[0]);
    process.exit(0);
  }
  const quick = flags.get("quick") === "true";
  const list = (key: string, fallback: number[]) =>
    flags.has(key) ? flags.get(key)!.split(",").map((v) => { const n = Number(v); if (!Number.isInteger(n) || n <= 0) throw new Error(`--${key}: ${v} is not a positive integer`); return n; }) : fallback;
  const phase = (kind: string, c: number[], n: number[], nQuick: number[], warmup: number, warmupQuick: number): PhaseOptions => ({
    c: list(`${kind}-c`, c),
    n: list(`${kind}-n`, quick ? nQuick : n),
    warmup: list(`${kind}-warmup`, [quick ? warmupQuick : warmup])[0],
  });
  const only = flags.get("only");
  for (const group of only?.split(",") ?? []) {
    if (!["ceiling", "flow", "verify", "login", "page", "scale", "floor", "cold"].includes(group)) throw new Error(`--only: unknown phase group ${group}`);
  }
  return {
    quick,
    profile: flags.get("profile") === "true",
    build: flags.get("build") === "true",
    snapshot: !flags.has("no-snapshot"),
    only: only ? new Set(only.split(",")) : null,
    flow: phase("flow", [1, 8], [100, 400], [25, 120], 10, 5),
    verify: phase("verify", [16], [800], [300], 50, 30),
    login: phase("login", [1, 16], [100, 400], [30, 150], 10, 5),
    page: phase("page", [16], [3000], [800], 200, 100),
    floor: phase("floor", [16], [3000], [800], 200, 100),
    scale: list("scale", [1_000, 10_000, 100_000]),
    scaleN: list("scale-n", [quick ? 150 : 400])[0],
    scaleLoginC: list("scale-login-c", [1, 16]),
    ceilingN: list("ceiling-n", [quick ? 10 : 30])[0],
    waitQuietSeconds: flags.has("wait-quiet") ? (flags.get("wait-quiet") === "true" ? 600 : Number(flags.get("wait-quiet"))) : 0,
    serverEnv: Object.fromEntries(
      (flags.get("env") ?? "")
        .split(",")
        .filter(Boolean)
        .map((pair) => {
          const eq = pair.indexOf("=");
          if (eq <= 0) throw new Error(`--env: ${pair} is not NAME=value`);
          return [pair.slice(0, eq), pair.slice(eq + 1)];
        }),
    ),
  };
}

// ---------------------------------------------------------------------------------------------- stats

interface Stats {
  n: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function stats(values: number[]): Stats | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return { n: s.length, mean: s.reduce((a, b) => a + b, 0) / s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1] };
}

class Recorder {
  readonly values = new Map<string, number[]>();
  errors = 0;
  readonly errorSamples: string[] = [];
  add(step: string, ms: number) {
    let list = this.values.get(step);
    if (!list) this.values.set(step, (list = []));
    list.push(ms);
  }
  fail(message: string) {
    this.errors += 1;
    if (this.errorSamples.length < 5) this.errorSamples.push(message);
  }
  summary(): Record<string, Stats> {
    return Object.fromEntries([...this.values].map(([k, v]) => [k, stats(v)!]));
  }
}

// ---------------------------------------------------------------------------------------------- HTTP client

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
let baseUrl = "";

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

function request(method: "GET" | "POST", path: string, json?: unknown): Promise<Reply> {
  const payload = json === undefined ? undefined : JSON.stringify(json);
  const url = new URL(path, baseUrl);
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const req = http.request(
      {
        agent,
        method,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        headers: payload === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - started }),
        );
        res.on("error", reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path} timed out after 30 s`)));
    req.on("error", reject);
    req.end(payload);
  });
}

async function expectStatus(rec: Recorder, step: string, reply: Promise<Reply>, status: number, check?: (r: Reply) => string | undefined): Promise<Reply | undefined> {
  let r: Reply;
  try {
    r = await reply;
  } catch (error) {
    rec.fail(`${step}: ${(error as Error).message}`);
    return undefined;
  }
  const problem = r.status !== status ? `HTTP ${r.status} ${r.body.slice(0, 200)}` : check?.(r);
  if (problem) {
    rec.fail(`${step}: ${problem}`);
    return undefined;
  }
  rec.add(step, r.ms);
  return r;
}

// ---------------------------------------------------------------------------------------------- inbox

/**
 * Hands each message the sink receives to whoever waits for its address, at once (the sink's own
 * waitForMail polls every 50 ms, which would sit inside every flow). Messages are not kept in
 * sink.messages, so memory stays flat over thousands of flows.
 */
class Inbox {
  private readonly waiters = new Map<string, { resolve: (m: { mail: ReceivedMail; at: number }) => void; timer: NodeJS.Timeout }>();
  private readonly early = new Map<string, { mail: ReceivedMail; at: number }>();

  constructor(sink: SmtpSink) {
    sink.messages.push = (...mails: ReceivedMail[]) => {
      const at = performance.now();
      for (const mail of mails) for (const to of mail.to) this.deliver(to.toLowerCase(), { mail, at });
      return 0;
    };
  }

  private deliver(to: string, item: { mail: ReceivedMail; at: number }) {
    const waiter = this.waiters.get(to);
    if (!waiter) return void this.early.set(to, item);
    this.waiters.delete(to);
    clearTimeout(waiter.timer);
    waiter.resolve(item);
  }

  /** Call before the request that sends the mail. Resolves with the message and performance.now() at its arrival. */
  wait(to: string, timeoutMs = 15_000): Promise<{ mail: ReceivedMail; at: number }> {
    const key = to.toLowerCase();
    const ready = this.early.get(key);
    if (ready) {
      this.early.delete(key);
      return Promise.resolve(ready);
    }
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(new Error(`no mail for ${to} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(key, { resolve: resolvePromise, timer });
    });
  }
}

// ---------------------------------------------------------------------------------------------- processes

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return undefined;
  }
}

/** pid and every descendant of it. */
function processTree(rootPid: number): number[] {
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
function findServerPid(rootPid: number): number {
  const tree = processTree(rootPid);
  const titled = tree.find((pid) => (readProc(pid, "cmdline") ?? "").startsWith("next-server"));
  return titled ?? tree[tree.length - 1];
}

function rssMb(pid: number): number | undefined {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readProc(pid, "status") ?? "");
  return m ? Number(m[1]) / 1024 : undefined;
}

/** CPU seconds (user + system) a process used so far. */
function cpuSeconds(pid: number): number {
  const stat = readProc(pid, "stat");
  if (!stat) return NaN;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** CPU seconds the main thread (the event loop, where all JavaScript runs) of a process used so far. */
function mainThreadCpuSeconds(pid: number): number {
  const stat = readProc(pid, `task/${pid}/stat`);
  if (!stat) return NaN;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds all processes on the machine used so far (from /proc/stat). */
function machineCpuSeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
  return (line[0] + line[1] + line[2] + line[5] + line[6] + (line[7] ?? 0)) / 100;
}

/** Waits until the rest of the machine uses under a quarter of a core for 6 s in a row (or the time is up). */
async function waitForQuiet(maxSeconds: number): Promise<void> {
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
function findRedisPid(): number | undefined {
  return processTree(process.pid).find((pid) => (readProc(pid, "comm") ?? "").trim() === "redis-server");
}

interface Server {
  pid: number;
  serverPid: number;
  port: number;
  log: string;
  stop(): Promise<void>;
}

async function startServer(root: string, env: Record<string, string | undefined>, logFile: string, profileDir?: string): Promise<Server> {
  if (!profileDir) {
    const app = await startApp({ root, env, logFile });
    cleanups.push(() => app.stop());
    baseUrl = app.url;
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
  baseUrl = `http://127.0.0.1:${port}`;
  await waitForOk(`${baseUrl}/`, child, 60_000).catch((error) => {
    throw new Error(`${(error as Error).message}\n${readFileSync(logFile, "utf8").slice(-3000)}`);
  });
  return { pid: child.pid!, serverPid: findServerPid(child.pid!), port, log: logFile, stop };
}

/**
 * A runnable copy of the production build: .next copied (without its caches); everything else in the
 * project linked (node_modules, db/migrations read from process.cwd() at start, next.config and what it imports).
 */
function snapshotBuild(dir: string, buildId: string): string {
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

// ---------------------------------------------------------------------------------------------- progress

const tty = process.stdout.isTTY;
let lastPlain = 0;
function progress(text: string) {
  if (tty) process.stdout.write(`\r\x1b[2K${text}`);
  else if (Date.now() - lastPlain > 5_000) {
    lastPlain = Date.now();
    console.log(text);
  }
}
function progressDone(text: string) {
  if (tty) process.stdout.write(`\r\x1b[2K`);
  console.log(text);
}

/** Runs task(0..total-1) with `concurrency` workers; returns the wall time in ms. */
async function runPool(label: string, total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  let done = 0;
  const started = performance.now();
  const timer = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    progress(`  ${label}: ${done}/${total}  ${(done / s).toFixed(1)}/s  ${s.toFixed(1)} s`);
  }, 250);
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, total) }, async () => {
        while (next < total) {
          const i = next++;
          await task(i);
          done += 1;
        }
      }),
    );
  } finally {
    clearInterval(timer);
  }
  return performance.now() - started;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------- phases

interface PhaseResult {
  name: string;
  kind: "flow" | "verify" | "verify_wrong" | "login" | "page" | "floor_api" | "floor_page";
  accounts: number;
  concurrency: number;
  count: number;
  warmup: number;
  seconds: number;
  perSecond: number;
  errors: number;
  errorSamples: string[];
  steps: Record<string, Stats>;
  serverCpuSeconds: number;
  /** Of serverCpuSeconds, what the main thread used (JavaScript, I/O callbacks); the rest is Argon2 on the pool, GC helpers, libsql. */
  serverMainThreadCpuSeconds: number;
  benchCpuSeconds: number;
  redisCpuSeconds: number;
  /** CPU used by everything else on the machine (other people's jobs, the OS) during the phase: noise. */
  otherCpuSeconds: number;
  /** VmRSS of the serving process, sampled every 100 ms during the measured part. */
  rssMaxMb: number;
  rssSamples: number;
  /** process.hrtime in µs (the clock V8's profiler uses) around the measured part. */
  windowUs: [number, number];
  /** Concurrency-1 phases: Argon2id measured in the bench process right before the phase (the targets' reference). */
  argon2Baseline?: Argon2Baseline;
}

const hrUs = () => Number(process.hrtime.bigint() / 1000n);

let server: Server;
let redisPid: number | undefined;
let inbox: Inbox;
let runId = randomBytes(3).toString("hex");
let emailCounter = 0;
const freshEmail = (tag: string) => `${tag}-${runId}-${emailCounter++}@bench.test`;
/** Accounts the run verified (password PASSWORD), for the login phases. */
const verifiedEmails: string[] = [];
let accountsInDb = 0;

async function measured(
  base: Omit<PhaseResult, "seconds" | "perSecond" | "errors" | "errorSamples" | "steps" | "serverCpuSeconds" | "serverMainThreadCpuSeconds" | "benchCpuSeconds" | "redisCpuSeconds" | "otherCpuSeconds" | "windowUs" | "rssMaxMb" | "rssSamples">,
  rec: Recorder,
  run: () => Promise<number>,
): Promise<PhaseResult> {
  const cpu0 = cpuSeconds(server.serverPid);
  const main0 = mainThreadCpuSeconds(server.serverPid);
  const redis0 = redisPid ? cpuSeconds(redisPid) : NaN;
  const machine0 = machineCpuSeconds();
  const bench0 = process.cpuUsage();
  let rssMax = 0;
  let rssSamples = 0;
  const sampler = setInterval(() => {
    const rss = rssMb(server.serverPid);
    if (rss !== undefined) {
      rssMax = Math.max(rssMax, rss);
      rssSamples += 1;
    }
  }, 100);
  const t0 = hrUs();
  const ms = await run();
  const t1 = hrUs();
  clearInterval(sampler);
  const benchCpu = process.cpuUsage(bench0);
  const serverCpu = cpuSeconds(server.serverPid) - cpu0;
  const redisCpu = redisPid ? cpuSeconds(redisPid) - redis0 : 0;
  const benchCpuSeconds = (benchCpu.user + benchCpu.system) / 1e6;
  const result: PhaseResult = {
    ...base,
    seconds: ms / 1000,
    perSecond: (base.count - rec.errors) / (ms / 1000), // completed items only
    errors: rec.errors,
    errorSamples: rec.errorSamples,
    steps: rec.summary(),
    serverCpuSeconds: serverCpu,
    serverMainThreadCpuSeconds: mainThreadCpuSeconds(server.serverPid) - main0,
    benchCpuSeconds,
    redisCpuSeconds: redisCpu,
    otherCpuSeconds: Math.max(0, machineCpuSeconds() - machine0 - serverCpu - redisCpu - benchCpuSeconds),
    windowUs: [t0, t1],
    rssMaxMb: rssMax,
    rssSamples,
  };
  const main = result.steps[mainStep(result.kind)];
  if (result.errors > result.count / 2) {
    throw new Error(`${result.name}: ${result.errors} of ${result.count} failed (${result.errorSamples.join("; ")}); see ${server.log}`);
  }
  progressDone(
    `  ${result.name.padEnd(26)} ${result.perSecond.toFixed(1).padStart(7)}/s  ` +
      (main ? `p50 ${fmt(main.p50)}  p95 ${fmt(main.p95)} ms` : "") +
      (result.errors ? `  ${result.errors} ERRORS: ${result.errorSamples[0]}` : ""),
  );
  return result;
}

function mainStep(kind: PhaseResult["kind"]): string {
  return kind === "flow" ? "flow" : kind === "verify_wrong" ? "verify" : kind === "floor_api" ? "request" : kind === "floor_page" ? "page" : kind;
}

/** register -> code at the sink -> verify -> login, one account. */
async function oneFlow(rec: Recorder) {
  const email = freshEmail("flow");
  const started = performance.now();
  const mail = inbox.wait(email);
  mail.catch(() => {});
  const reg = await expectStatus(rec, "register", request("POST", "/api/register", { name: NAME, email, password: PASSWORD }), 201);
  if (!reg) return;
  let code: string;
  try {
    const got = await mail;
    rec.add("inbox", got.at - started);
    code = extractCode(got.mail);
  } catch (error) {
    return rec.fail(`inbox: ${(error as Error).message}`);
  }
  const registration = registrationOf(reg);
  if (!(await expectStatus(rec, "verify", request("POST", "/api/verify-otp", { email, otp: code, registration }), 200))) return;
  const login = await expectStatus(rec, "login", request("POST", "/api/login", { email, password: PASSWORD }), 200, (r) =>
    String(r.headers["set-cookie"] ?? "").includes("session-token") ? undefined : "no session cookie",
  );
  if (!login) return;
  rec.add("flow", performance.now() - started);
  verifiedEmails.push(email);
}

async function flowPhase(c: number, n: number, warmup: number): Promise<PhaseResult> {
  await runPool(`flow c=${c} warm-up`, warmup, c, () => oneFlow(new Recorder()));
  accountsInDb += warmup;
  const argon2Baseline = c === 1 ? await baselineFor(`flow c=${c}`) : undefined;
  const rec = new Recorder();
  const result = await measured(
    { name: `flow c=${c}`, kind: "flow", accounts: accountsInDb, concurrency: c, count: n, warmup, argon2Baseline },
    rec,
    () => runPool(`flow c=${c}`, n, c, () => oneFlow(rec)),
  );
  accountsInDb += n;
  return result;
}

/** Registers fresh addresses (concurrency 8) and collects their codes. */
/** The registration token a signup's answer carries (sent back with the code to apply its details). */
function registrationOf(reply: Reply): string {
  return (JSON.parse(reply.body) as { registration: string }).registration;
}

async function issueCodes(count: number, label: string): Promise<Array<{ email: string; code: string; registration: string }>> {
  const out: Array<{ email: string; code: string; registration: string }> = [];
  const rec = new Recorder();
  await runPool(label, count, 8, async () => {
    const email = freshEmail("code");
    const mail = inbox.wait(email);
    mail.catch(() => {});
    const reg = await expectStatus(rec, "register", request("POST", "/api/register", { name: NAME, email, password: PASSWORD }), 201);
    if (!reg) return;
    try {
      out.push({ email, code: extractCode((await mail).mail), registration: registrationOf(reg) });
    } catch (error) {
      rec.fail((error as Error).message);
    }
  });
  accountsInDb += count;
  if (rec.errors) throw new Error(`issuing codes failed ${rec.errors} times: ${rec.errorSamples.join("; ")}`);
  return out;
}

async function verifyPhase(c: number, n: number, warmup: number, tag = ""): Promise<PhaseResult> {
  const codes = await issueCodes(warmup + n, `verify${tag} c=${c}: issuing ${warmup + n} codes (register)`);
  const verifyOne = (rec: Recorder, list: typeof codes) => async (i: number) => {
    const { email, code, registration } = list[i];
    if (await expectStatus(rec, "verify", request("POST", "/api/verify-otp", { email, otp: code, registration }), 200)) verifiedEmails.push(email);
  };
  const warm = codes.splice(0, warmup);
  const warmRec = new Recorder();
  await runPool(`verify${tag} c=${c} warm-up`, warm.length, c, verifyOne(warmRec, warm));
  const rec = new Recorder();
  return measured({ name: `verify${tag} c=${c}`, kind: "verify", accounts: accountsInDb, concurrency: c, count: n, warmup }, rec, () =>
    runPool(`verify${tag} c=${c}`, codes.length, c, verifyOne(rec, codes)),
  );
}

/** Wrong codes for addresses with no code: the cheap path (one Redis call, no database). */
async function verifyWrongPhase(c: number, n: number, warmup: number): Promise<PhaseResult> {
  const one = (rec: Recorder) => async () => {
    await expectStatus(rec, "verify", request("POST", "/api/verify-otp", { email: freshEmail("nobody"), otp: "000000" }), 400);
  };
  await runPool(`verify (wrong code) c=${c} warm-up`, warmup, c, one(new Recorder()));
  const rec = new Recorder();
  return measured({ name: `verify wrong code c=${c}`, kind: "verify_wrong", accounts: accountsInDb, concurrency: c, count: n, warmup }, rec, () =>
    runPool(`verify (wrong code) c=${c}`, n, c, one(rec)),
  );
}

async function loginPhase(c: number, n: number, warmup: number, pool: () => string, tag = ""): Promise<PhaseResult> {
  const one = (rec: Recorder) => async () => {
    await expectStatus(rec, "login", request("POST", "/api/login", { email: pool(), password: PASSWORD }), 200, (r) =>
      String(r.headers["set-cookie"] ?? "").includes("session-token") ? undefined : "no session cookie",
    );
  };
  await runPool(`login${tag} c=${c} warm-up`, warmup, c, one(new Recorder()));
  const argon2Baseline = c === 1 ? await baselineFor(`login${tag} c=${c}`) : undefined;
  const rec = new Recorder();
  return measured({ name: `login${tag} c=${c}`, kind: "login", accounts: accountsInDb, concurrency: c, count: n, warmup, argon2Baseline }, rec, () =>
    runPool(`login${tag} c=${c}`, n, c, one(rec)),
  );
}

/** The auth pages served as the build's HTML (lib/web/static-pages.ts): each is measured against the floor's prerendered page. */
const AUTH_PAGES = ["/register", "/login", "/forgot-password"] as const;

async function pagePhase(c: number, n: number, warmup: number, path: string = "/register"): Promise<PhaseResult> {
  const one = (rec: Recorder) => async () => {
    await expectStatus(rec, "page", request("GET", path), 200);
  };
  await runPool(`GET ${path} c=${c} warm-up`, warmup, c, one(new Recorder()));
  const rec = new Recorder();
  return measured({ name: `GET ${path} c=${c}`, kind: "page", accounts: accountsInDb, concurrency: c, count: n, warmup }, rec, () =>
    runPool(`GET ${path} c=${c}`, n, c, one(rec)),
  );
}

interface ColdStart {
  productFirstAnswerMs: number;
  floorFirstAnswerMs: number;
  /** The first register, verify and login after start, and the same requests warm (p50 of `warmCount`). */
  first: Record<string, number>;
  warm: Record<string, Stats>;
  warmCount: number;
}

/** Builds the floor app once per run (scripts/bench-floor.ts); both the floor and the cold phases use it. */
let floorBuilt = "";
function buildFloorApp(): string {
  if (floorBuilt) return floorBuilt;
  const dir = join(RESULTS_DIR, "floor-app"); // inside the project: it resolves the project's node_modules
  writeFloorApp(dir, ROOT);
  progress("  floor: building the minimal app (next build)");
  const build = spawnSync(process.execPath, [nextBin(ROOT), "build"], { cwd: dir, encoding: "utf8", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  if (build.status !== 0) throw new Error(`floor app: next build failed (exit ${build.status ?? build.signal})\n${(build.stdout + build.stderr).slice(-3000)}`);
  return (floorBuilt = dir);
}

/**
 * Cold start: a second product server from the same build and environment (the main one idles meanwhile), timed
 * from spawn to its first answer (GET /register), then its first register, verify and login, then the same flow
 * warm; and the floor app's spawn to first answer (GET /static) right after.
 */
async function coldPhase(appRoot: string, env: Record<string, string | undefined>, warmCount: number): Promise<ColdStart> {
  const floorDir = buildFloorApp();
  progress("  cold: starting a fresh server");
  const cold = await startCold(appRoot, env, join(RESULTS_DIR, "cold-server.log"), "/register");
  cleanups.push(() => cold.stop());
  const product = baseUrl;
  baseUrl = cold.url;
  const first = new Recorder();
  const warm = new Recorder();
  try {
    await oneFlow(first);
    for (let i = 0; i < warmCount; i++) await oneFlow(warm);
  } finally {
    baseUrl = product;
    await cold.stop();
  }
  if (first.errors || warm.errors) throw new Error(`cold: ${[...first.errorSamples, ...warm.errorSamples].join("; ")}`);
  const floor = await startCold(floorDir, { NODE_ENV: "production" }, join(RESULTS_DIR, "cold-floor.log"), FLOOR_PATHS.staticPage);
  await floor.stop();
  const firstSteps = Object.fromEntries(["register", "verify", "login"].map((step) => [step, first.values.get(step)?.[0] ?? NaN]));
  const warmSteps = Object.fromEntries(["register", "verify", "login"].map((step) => [step, stats(warm.values.get(step) ?? [])!]));
  progressDone(`  cold: first answer ${fmt(cold.firstAnswerMs)} ms (floor ${fmt(floor.firstAnswerMs)} ms)`);
  return { productFirstAnswerMs: cold.firstAnswerMs, floorFirstAnswerMs: floor.firstAnswerMs, first: firstSteps, warm: warmSteps, warmCount };
}

function renderCold(c: ColdStart): string {
  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : "-");
  const lines = [
    `Cold start: spawn to first answer ${fmt(c.productFirstAnswerMs)} ms vs bare Next app ${fmt(c.floorFirstAnswerMs)} ms -> ${ratio(c.productFirstAnswerMs, c.floorFirstAnswerMs)} (target < 1.5x)`,
  ];
  for (const step of ["register", "verify", "login"]) {
    const warm = c.warm[step]?.p50 ?? NaN;
    lines.push(`  first ${step} after start ${fmt(c.first[step])} ms vs warm p50 ${fmt(warm)} ms (n=${c.warmCount}) -> ${ratio(c.first[step], warm)}${step === "register" ? " (target <= 3x)" : ""}`);
  }
  return lines.join("\n");
}

/**
 * The framework floor: the minimal app of scripts/bench-floor.ts, built and served beside the product's server (idle
 * meanwhile), under the same load generator. Its phases take the product server's place in the CPU accounting.
 */
async function floorPhases(c: number, n: number, warmup: number, env: Record<string, string | undefined>): Promise<PhaseResult[]> {
  const dir = buildFloorApp();
  const app = await startApp({ root: dir, env, logFile: join(RESULTS_DIR, "floor-server.log"), readyPath: FLOOR_PATHS.staticPage });
  cleanups.push(() => app.stop());
  const product = { server, baseUrl };
  server = { pid: app.pid, serverPid: findServerPid(app.pid), port: app.port, log: app.logFile, stop: app.stop };
  baseUrl = app.url;
  try {
    const phase = async (name: string, kind: "floor_api" | "floor_page", send: () => Promise<Reply>, count: number) => {
      const step = mainStep(kind);
      const one = (rec: Recorder) => async () => void (await expectStatus(rec, step, send(), 200));
      // A fresh server: warmed at least as long as the product's, which has served every earlier phase.
      const warm = Math.max(warmup, 1_000);
      await runPool(`${name} warm-up`, warm, c, one(new Recorder()));
      const rec = new Recorder();
      return measured({ name, kind, accounts: 0, concurrency: c, count, warmup: warm }, rec, () => runPool(name, count, c, one(rec)));
    };
    return [
      await phase(`floor: no-op JSON POST c=${c}`, "floor_api", () => request("POST", FLOOR_PATHS.api, { email: "floor@bench.test", otp: "123456" }), n),
      await phase(`floor: nonce page c=${c}`, "floor_page", () => request("GET", FLOOR_PATHS.dynamicPage), n),
      await phase(`floor: static page c=${c}`, "floor_page", () => request("GET", FLOOR_PATHS.staticPage), n),
    ];
  } finally {
    await app.stop();
    ({ server, baseUrl } = product);
  }
}

// ---------------------------------------------------------------------------------------------- hashing ceiling

interface Argon2Baseline {
  hashMs: Stats;
  verifyMs: Stats;
}

interface Ceiling {
  params: string;
  hashMs: Stats;
  verifyMs: Stats;
  cores: number;
  /** cores / (hash + verify seconds), with the medians. */
  flowsPerSecond: number;
  formula: string;
  /** Pairs of (hash + verify) per second with `cores` of them running side by side, measured. */
  measuredParallelPairsPerSecond: number;
}

/** One Argon2id hash and one verify with the app's parameters, one after the other, `n` times (after 3 unmeasured). */
async function measureArgon2(n: number, label: string): Promise<Argon2Baseline & { sample: string }> {
  const hashes: number[] = [];
  const verifies: number[] = [];
  let sample = "";
  for (let i = 0; i < n + 3; i++) {
    progress(`  ${label}: ${i}/${n + 3}`);
    const t0 = performance.now();
    sample = await hashPassword(`${PASSWORD} ${i}`);
    const t1 = performance.now();
    if (!(await verifyPassword(sample, `${PASSWORD} ${i}`))) throw new Error("verifyPassword rejected its own hash");
    const t2 = performance.now();
    if (i >= 3) {
      hashes.push(t1 - t0);
      verifies.push(t2 - t1);
    }
  }
  return { hashMs: stats(hashes)!, verifyMs: stats(verifies)!, sample };
}

/**
 * The Argon2id cost right before a concurrency-1 phase, which the login and register targets are measured against:
 * this machine's speed drifts by 10-20% over a run, so a figure from the start of the run would not compare like with like.
 */
async function baselineFor(label: string): Promise<Argon2Baseline> {
  const { hashMs, verifyMs } = await measureArgon2(opts.ceilingN, `${label}: Argon2id baseline`);
  return { hashMs, verifyMs };
}

async function measureCeiling(n: number): Promise<Ceiling> {
  const cores = os.availableParallelism();
  const { hashMs, verifyMs, sample } = await measureArgon2(n, "hashing ceiling");
  // The same work on every core at once, for about 2 s: memory bandwidth may make it worse than the formula.
  let pairs = 0;
  const until = performance.now() + 2_000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: cores }, async () => {
      while (performance.now() < until) {
        const h = await hashPassword(PASSWORD);
        await verifyPassword(h, PASSWORD);
        pairs += 1;
      }
    }),
  );
  const pairsPerSecond = pairs / ((performance.now() - started) / 1000);
  const flowsPerSecond = cores / ((hashMs.p50 + verifyMs.p50) / 1000);
  const params = /^\$argon2id\$v=\d+\$([^$]+)\$/.exec(sample)?.[1] ?? "?";
  progressDone(`  hashing: hash p50 ${fmt(hashMs.p50)} ms, verify p50 ${fmt(verifyMs.p50)} ms (${params}); ceiling ${flowsPerSecond.toFixed(1)} flows/s`);
  return {
    params: `argon2id ${params}`,
    hashMs,
    verifyMs,
    cores,
    flowsPerSecond,
    formula: `${cores} cores / (hash p50 ${fmt(hashMs.p50)} ms + verify p50 ${fmt(verifyMs.p50)} ms)`,
    measuredParallelPairsPerSecond: pairsPerSecond,
  };
}

// ---------------------------------------------------------------------------------------------- seeding

/** Inserts verified accounts straight into the SQLite file until it holds `total` seeded ones. */
async function seed(databaseUrl: string, passwordHash: string, from: number, to: number): Promise<number> {
  const started = performance.now();
  const db = createDbClient({ url: databaseUrl });
  try {
    await db.execute("PRAGMA busy_timeout = 5000");
    const ROWS = 500; // 10 columns each: 5,000 parameters a statement
    const statements = [];
    const now = Date.now();
    for (let start = from; start < to; start += ROWS) {
      const end = Math.min(to, start + ROWS);
      const args: Array<string | number> = [];
      for (let i = start; i < end; i++) {
        args.push(`seed-${runId}-${i}`, `seed-${i}@bench.test`, NAME, passwordHash, "customer", 1, now, 0, now, now);
      }
      statements.push({
        sql:
          "INSERT INTO users (id, email, name, password_hash, role, is_active, email_verified_at, session_version, created_at, updated_at) VALUES " +
          Array.from({ length: end - start }, () => "(?,?,?,?,?,?,?,?,?,?)").join(","),
        args,
      });
    }
    await db.batch(statements, "write"); // one transaction
    // Fold the WAL back into the file, as after any quiet moment in production; the server should not pay for it.
    await db.execute("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
  return (performance.now() - started) / 1000;
}

// ---------------------------------------------------------------------------------------------- targets

interface Target {
  name: string;
  limit: string;
  measured: string;
  met: boolean | null;
}

function evaluateTargets(ceiling: Ceiling | undefined, phases: PhaseResult[]): Target[] {
  const find = (kind: PhaseResult["kind"], c: number, scale = false) =>
    phases.find((p) => p.kind === kind && p.concurrency === c && (scale ? p.name.includes("@") : !p.name.includes("@")));
  const targets: Target[] = [];
  const add = (name: string, limit: number | undefined, value: number | undefined, unit: string, below = true, note = "") => {
    const met = limit === undefined || value === undefined ? null : below ? value <= limit : value >= limit;
    targets.push({
      name,
      limit: limit === undefined ? "n/a" : `${below ? "<=" : ">="} ${fmt(limit)} ${unit}${note}`,
      measured: value === undefined ? "not run" : `${fmt(value)} ${unit}`,
      met,
    });
  };
  add("verify p95, c=16", 5, find("verify", 16)?.steps.verify?.p95, "ms");
  // Against Argon2id measured right before the phase (baselineFor), else at the start of the run.
  const login1 = find("login", 1);
  const verifyRef = login1?.argon2Baseline?.verifyMs.p50 ?? ceiling?.verifyMs.p50;
  add("login p50, c=1", verifyRef === undefined ? undefined : verifyRef + 5, login1?.steps.login?.p50, "ms", true, ` (verify ${fmt(verifyRef)} + 5)`);
  const flow1 = find("flow", 1);
  const hashRef = flow1?.argon2Baseline?.hashMs.p50 ?? ceiling?.hashMs.p50;
  add("register p50, c=1", hashRef === undefined ? undefined : hashRef + 10, flow1?.steps.register?.p50, "ms", true, ` (hash ${fmt(hashRef)} + 10)`);
  add("time-to-inbox p95, c=1", 50, flow1?.steps.inbox?.p95, "ms");
  const flow8 = find("flow", 8);
  add("flows/s, c=8", ceiling ? ceiling.flowsPerSecond * 0.7 : undefined, flow8?.perSecond, "/s", false, " (70% of ceiling)");
  // The formula assumes two hashes side by side run as fast as one alone; Argon2id is memory-bound, so they may not.
  add("(info) flows/s vs measured ceiling", ceiling ? ceiling.measuredParallelPairsPerSecond * 0.7 : undefined, flow8?.perSecond, "/s", false, " (70% of side-by-side)");
  add("GET /register p95, c=16", 20, phases.find((p) => p.name === "GET /register c=16")?.steps.page?.p95, "ms");
  add("server RSS max, flow c=8", 300, flow8?.rssMaxMb, "MB");
  // What Next itself costs here, under the same load (scripts/bench-floor.ts): no product code can go below it.
  const floor = (name: string) => phases.find((p) => p.name.startsWith(`floor: ${name} c=16`));
  add("(floor) no-op JSON POST p95, c=16", 5, floor("no-op JSON POST")?.steps.request?.p95, "ms", true, " (as verify)");
  add("(floor) nonce page p95, c=16", 20, floor("nonce page")?.steps.page?.p95, "ms", true, " (as GET /register)");
  add("(floor) static page p95, c=16", 20, floor("static page")?.steps.page?.p95, "ms", true, " (as GET /register)");
  // Prerendered auth pages against the floor's prerendered page, in the same run.
  const staticFloor = floor("static page")?.steps.page?.p95;
  for (const path of AUTH_PAGES) {
    const p95 = phases.find((p) => p.name === `GET ${path} c=16`)?.steps.page?.p95;
    add(`GET ${path} p95, c=16 vs floor static page`, staticFloor === undefined ? undefined : staticFloor * 1.3, p95, "ms", true, ` (1.3x floor ${fmt(staticFloor)})`);
  }
  // Flat at scale: p50 with the most accounts no worse than 1.25x (+1 ms) the one with the fewest.
  for (const kind of ["verify", "login"] as const) {
    const runs = phases.filter((p) => p.kind === kind && p.name.includes("@") && p.concurrency === 16).sort((a, b) => a.accounts - b.accounts);
    if (runs.length >= 2) {
      const first = runs[0].steps[kind]?.p50;
      const last = runs[runs.length - 1].steps[kind]?.p50;
      if (first !== undefined && last !== undefined) {
        add(`${kind} p50 flat, ${kNum(runs[0].accounts)} -> ${kNum(runs[runs.length - 1].accounts)}`, first * 1.25 + 1, last, "ms", true, " (1.25x + 1)");
      }
    }
  }
  return targets;
}

// ---------------------------------------------------------------------------------------------- output

const fmt = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "-" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const kNum = (n: number) => (n >= 1000 ? `${Math.round(n / 1000)}k` : String(n));

function table(rows: string[][], align: ("l" | "r")[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r, ri) => {
      const line = r.map((cell, i) => (align[i] === "l" ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ");
      return ri === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}

function render(results: { machine: Record<string, unknown>; ceiling?: Ceiling; phases: PhaseResult[]; targets: Target[]; seeding: Array<{ accounts: number; seconds: number }> }): string {
  const out: string[] = [];
  const m = results.machine;
  out.push(
    `Machine: ${m.cpu} x${m.cores}, ${m.memoryGb} GB, Node ${m.node}, Next ${m.next}; build ${m.buildId}; server ${m.serverNodeOptions || "(no heap cap)"} (as npm start), idle RSS ${Number(m.serverIdleRssMb).toFixed(0)} MB` +
      (Object.keys(m.serverEnv as object).length ? `; server env ${Object.entries(m.serverEnv as object).map(([k, v]) => `${k}=${v}`).join(" ")}` : "") +
      (m.profiled ? "; SERVER PROFILED (--cpu-prof): timings inflated" : ""),
  );
  if (results.ceiling) {
    const c = results.ceiling;
    out.push(
      `Hashing (${c.params}, in-process): hash p50 ${fmt(c.hashMs.p50)} ms, verify p50 ${fmt(c.verifyMs.p50)} ms -> ceiling ${c.flowsPerSecond.toFixed(1)} flows/s = ${c.formula}; measured on ${c.cores} cores side by side: ${c.measuredParallelPairsPerSecond.toFixed(1)} hash+verify/s`,
    );
  }
  const baselines = results.phases.filter((p) => p.argon2Baseline);
  if (baselines.length) {
    out.push(
      `Argon2id right before each c=1 phase (hash / verify p50, ms): ${baselines.map((p) => `${p.name} ${fmt(p.argon2Baseline!.hashMs.p50)} / ${fmt(p.argon2Baseline!.verifyMs.p50)}`).join("; ")}`,
    );
  }
  out.push("");
  const header = ["phase", "accounts", "c", "n", "rate/s", "step", "p50", "p95", "p99", "max", "err", "srv ms/item main+rest", "cpu srv/redis/bench/other", "rss max"];
  const rows: string[][] = [header];
  for (const p of results.phases) {
    const steps = p.kind === "flow" ? ["register", "inbox", "verify", "login", "flow"] : [mainStep(p.kind)];
    steps.forEach((step, i) => {
      const s = p.steps[step];
      rows.push([
        i === 0 ? p.name : "",
        i === 0 ? kNum(p.accounts) : "",
        i === 0 ? String(p.concurrency) : "",
        i === 0 ? String(p.count) : "",
        i === 0 ? p.perSecond.toFixed(1) : "",
        step,
        fmt(s?.p50),
        fmt(s?.p95),
        fmt(s?.p99),
        fmt(s?.max),
        i === 0 ? String(p.errors) : "",
        i === 0 ? `${fmt((p.serverMainThreadCpuSeconds * 1000) / p.count)}+${fmt(((p.serverCpuSeconds - p.serverMainThreadCpuSeconds) * 1000) / p.count)}` : "",
        i === 0 ? [p.serverCpuSeconds, p.redisCpuSeconds, p.benchCpuSeconds, p.otherCpuSeconds].map((v) => `${((v / p.seconds) * 100).toFixed(0)}%`).join("/") : "",
        i === 0 && p.rssMaxMb ? `${p.rssMaxMb.toFixed(0)} MB` : "",
      ]);
    });
  }
  out.push(table(rows, ["l", "r", "r", "r", "r", "l", "r", "r", "r", "r", "r", "r", "r", "r"]));
  const noisy = results.phases.filter((p) => p.otherCpuSeconds / p.seconds > 0.15);
  if (noisy.length) {
    const which = noisy.length > 4 ? `${noisy.length} of ${results.phases.length} phases` : noisy.map((p) => p.name).join(", ");
    out.push(`NOTE: other processes used over 15% of a core during ${which} (last cpu figure): those timings are pessimistic; re-run on a quiet machine (--wait-quiet).`);
  }
  out.push("(times in ms; inbox = register start -> message at the sink; srv ms/item = server CPU per flow or request: main thread + other threads (Argon2 pool, GC, libsql); cpu = share of one core used by the server (incl. its hashing threads) / redis / the bench process (load + SMTP sink) / everything else on the machine)");
  const flow8 = results.phases.filter((p) => p.kind === "flow").sort((a, b) => b.concurrency - a.concurrency)[0];
  if (flow8) {
    const per = (v: number) => (v * 1000) / flow8.count;
    const total = per(flow8.serverCpuSeconds + flow8.redisCpuSeconds + flow8.benchCpuSeconds);
    out.push(
      `CPU per flow at c=${flow8.concurrency}: server ${fmt(per(flow8.serverCpuSeconds))} ms (main thread ${fmt(per(flow8.serverMainThreadCpuSeconds))}), ` +
        `redis ${fmt(per(flow8.redisCpuSeconds))} ms, bench + SMTP sink ${fmt(per(flow8.benchCpuSeconds))} ms -> on ${os.availableParallelism()} otherwise idle cores at most ` +
        `${((os.availableParallelism() * 1000) / total).toFixed(1)} flows/s (load-independent estimate; measured ${flow8.perSecond.toFixed(1)})`,
    );
  }
  if (results.seeding.length) out.push(`Seeding: ${results.seeding.map((s) => `${kNum(s.accounts)} accounts in ${s.seconds.toFixed(1)} s`).join(", ")}`);
  out.push("");
  out.push(table([["target", "limit", "measured", "met"], ...results.targets.map((t) => [t.name, t.limit, t.measured, t.met === null ? "n/a" : t.met ? "met" : "NOT MET"])], ["l", "l", "r", "l"]));
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------- main

const cleanups: Array<() => Promise<unknown> | unknown> = [];
let stopping = false;
async function cleanup() {
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
process.on("SIGINT", () => {
  progressDone("\nInterrupted: stopping the server, Redis and the SMTP sink.");
  void cleanup().then(() => process.exit(130));
});
process.on("SIGTERM", () => void cleanup().then(() => process.exit(143)));

const opts = parseOptions(process.argv.slice(2));
const wants = (group: string) => !opts.only || opts.only.has(group);

function git(args: string[]): string {
  return spawnSync("git", args, { cwd: ROOT, encoding: "utf8" }).stdout?.trim() ?? "";
}

async function main() {
  if (opts.build) {
    console.log("Building (--build)");
    const build = spawnSync(process.execPath, [nextBin(ROOT), "build"], { cwd: ROOT, stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
    if (build.status !== 0) throw new Error(`next build failed (exit ${build.status ?? build.signal})`);
  }
  // Another `next build` may be under way (tests rebuild .next): give it a moment before building ourselves.
  for (let waited = 0; !existsSync(join(ROOT, ".next/BUILD_ID")) && existsSync(join(ROOT, ".next/lock")) && waited < 120; waited++) {
    progress(`  .next/BUILD_ID is missing and .next/lock exists: waiting for the build under way (${waited} s)`);
    await sleep(1_000);
  }
  ensureBuild(ROOT); // next build when .next/BUILD_ID is missing
  const buildId = readFileSync(join(ROOT, ".next/BUILD_ID"), "utf8").trim();
  const buildAge = (Date.now() - statSync(join(ROOT, ".next/BUILD_ID")).mtimeMs) / 60_000;

  if (opts.waitQuietSeconds > 0) await waitForQuiet(opts.waitQuietSeconds);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const tmp = mkdtempSync(join(os.tmpdir(), "bench-"));
  cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));

  const machine = {
    cpu: os.cpus()[0]?.model.trim() ?? "?",
    cores: os.availableParallelism(),
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.versions.node,
    next: JSON.parse(readFileSync(join(ROOT, "node_modules/next/package.json"), "utf8")).version as string,
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? "4 (default)",
    serverNodeOptions: productionNodeOptions(),
    buildId,
    buildAgeMinutes: Math.round(buildAge),
    commit: git(["rev-parse", "--short", "HEAD"]),
    dirty: git(["status", "--porcelain"]) !== "",
    loadAverageAtStart: os.loadavg().map((v) => Number(v.toFixed(2))),
    profiled: opts.profile,
    quick: opts.quick,
    date: new Date().toISOString(),
  };
  console.log(`Bench ${opts.quick ? "(quick) " : ""}on ${machine.cpu} x${machine.cores}, Node ${machine.node}, Next ${machine.next}, build ${buildId} (${machine.buildAgeMinutes} min old)`);

  const redis: RedisServer = await startRedis();
  cleanups.push(() => redis.stop());
  redisPid = findRedisPid();
  const sink = await startSmtpSink();
  cleanups.push(() => sink.close());
  inbox = new Inbox(sink);

  // Run from a copy of the build, so a `next build` started elsewhere during the run (tests do that)
  // cannot pull the files from under the server, and the profile's source maps still match afterwards.
  let appRoot = ROOT;
  for (let attempt = 1; opts.snapshot; attempt++) {
    try {
      const id = readFileSync(join(ROOT, ".next/BUILD_ID"), "utf8").trim();
      rmSync(join(tmp, "app"), { recursive: true, force: true });
      appRoot = snapshotBuild(join(tmp, "app"), id);
      machine.buildId = id;
      break;
    } catch (error) {
      if (attempt >= 10) throw error;
      progress(`  the build is changing under us (${(error as Error).message.split("\n")[0]}); retrying in 10 s`);
      await sleep(10_000);
    }
  }

  const databaseFile = join(tmp, "app.db");
  const databaseUrl = `file:${databaseFile}`;
  const profileDir = join(RESULTS_DIR, "profile");
  if (opts.profile) {
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
  }
  // startApp adds process.env and NEXT_TELEMETRY_DISABLED=1; blanked (not unset) so .env files cannot fill them.
  const env: Record<string, string | undefined> = {
    ...blankDeveloperEnv(),
    DATABASE_AUTH_TOKEN: "",
    NODE_ENV: "production",
    AUTH_SECRET: randomBytes(32).toString("base64"),
    AUTH_TRUST_HOST: "true",
    REDIS_URL: redis.url,
    SMTP_URL: `smtp://127.0.0.1:${sink.port}`, // the app's SmtpMailer pools connections (pool: true)
    SMTP_SECURE: "false",
    MAIL_FROM: "Verified Signup <no-reply@example.test>",
    DATABASE_URL: databaseUrl,
    NODE_OPTIONS: productionNodeOptions(),
    ...BENCH_RATE_LIMIT_ENV,
    ...opts.serverEnv,
  };
  server = await startServer(appRoot, env, join(RESULTS_DIR, "server.log"), opts.profile ? profileDir : undefined);
  const tree = processTree(server.pid);
  console.log(
    `Server: next start pid ${server.pid}, serving pid ${server.serverPid} (${(readProc(server.serverPid, "cmdline") ?? "").split("\0")[0]}), tree [${tree.join(", ")}], ${baseUrl}; redis ${redis.url}; smtp 127.0.0.1:${sink.port}`,
  );

  const idleRssMb = rssMb(server.serverPid);
  const phases: PhaseResult[] = [];
  const seeding: Array<{ accounts: number; seconds: number }> = [];
  let ceiling: Ceiling | undefined;
  const nth = (list: number[], i: number) => list[Math.min(i, list.length - 1)];

  if (wants("ceiling") || wants("flow") || wants("login") || wants("scale")) ceiling = await measureCeiling(opts.ceilingN);

  if (wants("flow")) for (const [i, c] of opts.flow.c.entries()) phases.push(await flowPhase(c, nth(opts.flow.n, i), opts.flow.warmup));
  if (wants("verify")) {
    for (const [i, c] of opts.verify.c.entries()) phases.push(await verifyPhase(c, nth(opts.verify.n, i), opts.verify.warmup));
    phases.push(await verifyWrongPhase(Math.max(...opts.verify.c), nth(opts.verify.n, 0), opts.verify.warmup));
  }
  if (wants("login")) {
    if (verifiedEmails.length < 50) {
      const seconds = await seed(databaseUrl, await hashPassword(PASSWORD), 0, 200);
      for (let i = 0; i < 200; i++) verifiedEmails.push(`seed-${i}@bench.test`);
      accountsInDb += 200;
      seeding.push({ accounts: 200, seconds });
    }
    let k = 0;
    const pool = () => verifiedEmails[k++ % verifiedEmails.length];
    for (const [i, c] of opts.login.c.entries()) phases.push(await loginPhase(c, nth(opts.login.n, i), opts.login.warmup, pool));
  }
  if (wants("page")) {
    for (const path of AUTH_PAGES) for (const [i, c] of opts.page.c.entries()) phases.push(await pagePhase(c, nth(opts.page.n, i), opts.page.warmup, path));
  }

  if (wants("floor")) phases.push(...(await floorPhases(opts.floor.c[0], opts.floor.n[0], opts.floor.warmup, { NODE_ENV: "production" })));

  if (wants("scale")) {
    const seedHash = await hashPassword(PASSWORD); // one precomputed hash for every seeded account
    let seeded = verifiedEmails.some((e) => e.startsWith("seed-")) ? 200 : 0;
    for (const target of opts.scale) {
      if (target > seeded) {
        progress(`  seeding ${kNum(target)} accounts`);
        const seconds = await seed(databaseUrl, seedHash, seeded, target);
        accountsInDb += target - seeded;
        seeded = target;
        seeding.push({ accounts: target, seconds });
        progressDone(`  seeded up to ${kNum(target)} accounts in ${seconds.toFixed(1)} s (${kNum(accountsInDb)} in the table)`);
      }
      const tag = ` @${kNum(target)}`;
      phases.push(await verifyPhase(16, opts.scaleN, opts.verify.warmup, tag));
      let k = 0;
      const pool = () => `seed-${(k++ * 7919) % seeded}@bench.test`; // spread over the whole table
      for (const c of opts.scaleLoginC) phases.push(await loginPhase(c, c === 1 ? Math.min(100, opts.scaleN) : opts.scaleN, opts.login.warmup, pool, tag));
    }
  }

  const cold = wants("cold") ? await coldPhase(appRoot, env, opts.quick ? 10 : 30) : undefined;

  const targets = evaluateTargets(ceiling, phases);
  const results = { machine: { ...machine, serverIdleRssMb: idleRssMb, serverEnv: opts.serverEnv }, options: { ...opts, only: opts.only ? [...opts.only] : null }, ceiling, phases, seeding, targets, cold, profile: undefined as ProfileSummary | undefined };
  const text = cold ? `${render(results)}\n\n${renderCold(cold)}` : render(results);

  // Stop the server before reading its profile: --cpu-prof writes it on exit.
  await server.stop();
  if (opts.profile) {
    const file = readdirSync(profileDir).find((f) => f.endsWith(`.${server.serverPid}.0.001.cpuprofile`)) ?? readdirSync(profileDir).find((f) => f.includes(`.${server.serverPid}.`));
    if (!file) {
      console.error(`No profile for pid ${server.serverPid} in ${profileDir}: ${readdirSync(profileDir).join(", ")}`);
    } else {
      const windows: ProfileWindow[] = phases.filter((p) => !p.kind.startsWith("floor")).map((p) => ({
        name: p.name,
        startUs: p.windowUs[0],
        endUs: p.windowUs[1],
        requests: p.count,
        mainThreadCpuMsPerItem: (p.serverMainThreadCpuSeconds * 1000) / p.count,
      }));
      results.profile = summariseProfile(join(profileDir, file), windows, appRoot);
      writeFileSync(join(RESULTS_DIR, "profile-summary.txt"), results.profile.text + "\n");
    }
  }

  writeFileSync(join(RESULTS_DIR, "latest.json"), JSON.stringify(results, null, 2) + "\n");
  writeFileSync(join(RESULTS_DIR, "latest.txt"), text + "\n");
  console.log(`\n${text}\n`);
  if (results.profile) console.log(`${results.profile.text}\n`);
  console.log(`Results: bench-results/latest.json, bench-results/latest.txt${results.profile ? ", bench-results/profile-summary.txt" : ""}; server log bench-results/server.log`);
  const errors = phases.reduce((a, p) => a + p.errors, 0);
  if (errors) {
    console.error(`${errors} requests failed: see the err column and bench-results/server.log`);
    process.exitCode = 1;
  }
}

main()
  .catch((error) => {
    progressDone("");
    console.error(error instanceof Error ? error.stack : error);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
