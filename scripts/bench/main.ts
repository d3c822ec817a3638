#!/usr/bin/env -S npx tsx
/**
 * `npm run bench`: how close the product runs to its hashing floor.
 *
 * Starts its own redis-server, SMTP sink and `next start` (production build, built when missing) on free
 * loopback ports, runs the phases below against the JSON API, prints a table, writes
 * bench-results/latest.json, and stops what it started by pid (also on Ctrl-C).
 *
 *   npm run bench                      full run (about 15 minutes on 2 cores, 10 of them the soak)
 *   npm run bench -- --quick           short run (about 3 minutes, 1 of them the soak)
 *   npm run bench -- --profile         run the server under `node --cpu-prof` and summarise where each phase's
 *                                      main-thread time went (bench-results/profile-summary.txt; timings inflated)
 *   npm run bench -- --only=flow,login skip the other phase groups (ceiling, flow, verify, login, page, scale, floor, soak, cold)
 *   npm run bench -- --env=UV_THREADPOOL_SIZE=2,MALLOC_ARENA_MAX=2   extra environment for the server (experiments)
 *   npm run bench -- --wait-quiet[=600] first wait (up to 600 s) until other processes use under 0.25 of a core for 6 s
 *   npm run bench -- --build           run `next build` first even when a build exists
 *   npm run bench -- --no-snapshot     serve the project's .next itself (default: a copy in a temporary folder,
 *                                      so a build started elsewhere during the run cannot break the server)
 *   Per phase kind (flow, verify, login, page): --flow-c=1,8 --flow-n=100,400 --flow-warmup=10 (a list
 *   gives one run per concurrency; a single count applies to all). --scale=1000,10000,100000 --scale-n=300
 *   --scale-login-c=1,16. The soak: --soak-minutes=10 (1 with --quick) --soak-rate=10 (requests a second).
 *
 * Phase group "floor" (scripts/bench/floor.ts) builds and serves a minimal Next app with the same proxy headers and
 * measures a no-op JSON route and a small page (per request with a nonce, and prerendered) the same way: the framework's
 * own cost on this machine, beside the product's.
 *
 * Phase group "cold" (scripts/bench/cold.ts) starts a second server from the same build and times spawn to its first
 * answer, then its first register, verify and login against the same requests warm, beside the floor app's start.
 *
 * Phase group "soak" (scripts/bench/phases/soak.ts) runs mixed traffic (signups, wrong codes, logins, pages) open-loop at a
 * steady rate for minutes, and reports errors by status, p50/p95/p99 per window and the slope of the server's RSS.
 *
 * The load generator, the SMTP sink (which parses every message) and Redis share the machine with the server:
 * the table reports the CPU each of the bench process and the server used per phase, so that share is visible.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { blankDeveloperEnv, ensureBuild, nextBin } from "../../testing/services/app-server";
import { startRedis, type RedisServer } from "../../testing/services/redis-server";
import { startSmtpSink } from "../../testing/services/smtp-sink";
import { hashPassword } from "../../lib/credentials/passwords";
import { BENCH_RATE_LIMIT_ENV, productionNodeOptions, RESULTS_DIR, ROOT } from "./environment";
import { Inbox } from "./inbox";
import { endpoint } from "./load";
import { parseOptions } from "./options";
import { database, PASSWORD, seed, verifiedEmails } from "./phases/accounts";
import { measureCeiling, type Ceiling } from "./phases/ceiling";
import { coldPhase } from "./phases/cold";
import { floorPhases } from "./phases/floor";
import { current, type PhaseResult } from "./phases/measure";
import { AUTH_PAGES, flowPhase, loginPhase, pagePhase, verifyPhase, verifyWrongPhase } from "./phases/product";
import { soakPhase, type SoakResult } from "./phases/soak";
import { cleanup, cleanups, findRedisPid, processTree, readProc, rssMb, snapshotBuild, startServer, waitForQuiet } from "./processes";
import { summariseProfile, type ProfileSummary, type ProfileWindow } from "./profile";
import { progress, progressDone, sleep } from "./progress";
import { render, renderCold, renderSoak } from "./report";
import { kNum } from "./stats";
import { evaluateTargets } from "./targets";

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
  console.log(
    `Bench ${opts.quick ? "(quick) " : ""}on ${machine.cpu} x${machine.cores}, Node ${machine.node}, Next ${machine.next}, build ${buildId} (${machine.buildAgeMinutes} min old)`,
  );

  const redis: RedisServer = await startRedis();
  cleanups.push(() => redis.stop());
  current.redisPid = findRedisPid();
  const sink = await startSmtpSink();
  cleanups.push(() => sink.close());
  current.inbox = new Inbox(sink);

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
  const server = await startServer(appRoot, env, join(RESULTS_DIR, "server.log"), opts.profile ? profileDir : undefined);
  current.server = server;
  const tree = processTree(server.pid);
  console.log(
    `Server: next start pid ${server.pid}, serving pid ${server.serverPid} (${(readProc(server.serverPid, "cmdline") ?? "").split("\0")[0]}), tree [${tree.join(", ")}], ${endpoint.baseUrl}; redis ${redis.url}; smtp 127.0.0.1:${sink.port}`,
  );

  const idleRssMb = rssMb(server.serverPid);
  const phases: PhaseResult[] = [];
  const seeding: Array<{ accounts: number; seconds: number }> = [];
  let ceiling: Ceiling | undefined;
  // Option lists hold one value at least (scripts/bench/options.ts): the last one repeats.
  const nth = (list: number[], i: number) => list[Math.min(i, list.length - 1)]!;

  if (wants("ceiling") || wants("flow") || wants("login") || wants("scale")) ceiling = await measureCeiling(opts.ceilingN);

  if (wants("flow")) for (const [i, c] of opts.flow.c.entries()) phases.push(await flowPhase(c, nth(opts.flow.n, i), opts.flow.warmup, opts.ceilingN));
  if (wants("verify")) {
    for (const [i, c] of opts.verify.c.entries()) phases.push(await verifyPhase(c, nth(opts.verify.n, i), opts.verify.warmup));
    phases.push(await verifyWrongPhase(Math.max(...opts.verify.c), nth(opts.verify.n, 0), opts.verify.warmup));
  }
  /** Verified accounts for logins: those the run verified, else 200 seeded ones. */
  const ensureLoginAccounts = async () => {
    if (verifiedEmails.length >= 50) return;
    const seconds = await seed(databaseUrl, await hashPassword(PASSWORD), 0, 200);
    for (let i = 0; i < 200; i++) verifiedEmails.push(`seed-${i}@bench.test`);
    database.accounts += 200;
    seeding.push({ accounts: 200, seconds });
  };
  if (wants("login")) {
    await ensureLoginAccounts();
    let k = 0;
    // Seeded above when empty: never an empty pool.
    const pool = () => verifiedEmails[k++ % verifiedEmails.length]!;
    for (const [i, c] of opts.login.c.entries()) phases.push(await loginPhase(c, nth(opts.login.n, i), opts.login.warmup, opts.ceilingN, pool));
  }
  if (wants("page")) {
    for (const path of AUTH_PAGES) for (const [i, c] of opts.page.c.entries()) phases.push(await pagePhase(c, nth(opts.page.n, i), opts.page.warmup, path));
  }

  if (wants("floor")) phases.push(...(await floorPhases(nth(opts.floor.c, 0), nth(opts.floor.n, 0), opts.floor.warmup, { NODE_ENV: "production" })));

  if (wants("scale")) {
    const seedHash = await hashPassword(PASSWORD); // one precomputed hash for every seeded account
    let seeded = verifiedEmails.some((e) => e.startsWith("seed-")) ? 200 : 0;
    for (const target of opts.scale) {
      if (target > seeded) {
        progress(`  seeding ${kNum(target)} accounts`);
        const seconds = await seed(databaseUrl, seedHash, seeded, target);
        database.accounts += target - seeded;
        seeded = target;
        seeding.push({ accounts: target, seconds });
        progressDone(`  seeded up to ${kNum(target)} accounts in ${seconds.toFixed(1)} s (${kNum(database.accounts)} in the table)`);
      }
      const tag = ` @${kNum(target)}`;
      phases.push(await verifyPhase(16, opts.scaleN, opts.verify.warmup, tag));
      let k = 0;
      const pool = () => `seed-${(k++ * 7919) % seeded}@bench.test`; // spread over the whole table
      for (const c of opts.scaleLoginC)
        phases.push(await loginPhase(c, c === 1 ? Math.min(100, opts.scaleN) : opts.scaleN, opts.login.warmup, opts.ceilingN, pool, tag));
    }
  }

  let soak: SoakResult | undefined;
  if (wants("soak")) {
    await ensureLoginAccounts();
    let k = 0;
    const run = await soakPhase(opts.soakMinutes, opts.soakRate, () => verifiedEmails[k++ % verifiedEmails.length]!);
    phases.push(run.phase);
    soak = run.soak;
  }

  const cold = wants("cold") ? await coldPhase(appRoot, env, opts.quick ? 10 : 30, opts.quick ? 5 : 9) : undefined;

  const targets = evaluateTargets(ceiling, phases, soak);
  const results = {
    machine: { ...machine, serverIdleRssMb: idleRssMb, serverEnv: opts.serverEnv },
    options: { ...opts, only: opts.only ? [...opts.only] : null },
    ceiling,
    phases,
    seeding,
    targets,
    soak,
    cold,
    profile: undefined as ProfileSummary | undefined,
  };
  const text = [render(results), soak && renderSoak(soak), cold && renderCold(cold)].filter(Boolean).join("\n\n");

  // Stop the server before reading its profile: --cpu-prof writes it on exit.
  await server.stop();
  if (opts.profile) {
    const file =
      readdirSync(profileDir).find((f) => f.endsWith(`.${server.serverPid}.0.001.cpuprofile`)) ??
      readdirSync(profileDir).find((f) => f.includes(`.${server.serverPid}.`));
    if (!file) {
      console.error(`No profile for pid ${server.serverPid} in ${profileDir}: ${readdirSync(profileDir).join(", ")}`);
    } else {
      const windows: ProfileWindow[] = phases
        .filter((p) => !p.kind.startsWith("floor"))
        .map((p) => ({
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
  console.log(
    `Results: bench-results/latest.json, bench-results/latest.txt${results.profile ? ", bench-results/profile-summary.txt" : ""}; server log bench-results/server.log`,
  );
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
