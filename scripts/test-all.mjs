#!/usr/bin/env node
// npm test: lint (Biome), typecheck, Vitest (on a file database and on sqld), production build, Playwright, then builds
// of temporary copies (Vercel's own, with the checks over its output; the server-only guard's), in that order.
// Prints each runner's output live and ends with one line "N passed, N failed" for the CI.
// A skipped test is not a pass; with CI=true it is a failure. A runner that fails without
// a readable report counts as 1 failure.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { headerComment, parseCommandLine } from "./support/args.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
if (parseCommandLine({ help: { type: "boolean", short: "h" } }, { exitCode: 2 }).values.help) {
  console.log(headerComment(import.meta.url));
  process.exit(0);
}
const ci = process.env.CI === "true";
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
const VITEST_REPORT = "test-results/vitest.json";
const VERCEL_REPORT = "test-results/vitest-vercel.json";
const PLAYWRIGHT_REPORT = "test-results/playwright.json"; // as in playwright.config.ts

mkdirSync(join(root, "test-results"), { recursive: true });
const results = [];

function run(name, bin, args) {
  console.log(`\n=== ${name}: ${bin} ${args.join(" ")}`);
  const started = Date.now();
  const { status, signal, error } = spawnSync(join(root, "node_modules/.bin", bin), args, { cwd: root, env, stdio: "inherit" });
  if (error) console.error(`${name}: could not start: ${error.message}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`=== ${name}: exit ${status ?? signal} after ${seconds} s`);
  return status === 0;
}

/** A check without a report of its own: 1 test. */
function check(name, bin, args) {
  const ok = run(name, bin, args);
  results.push({ name, passed: ok ? 1 : 0, failed: ok ? 0 : 1, skipped: 0 });
  return ok;
}

/** A test runner with a JSON report; `count` reads { passed, failed, skipped } from it. */
function suite(name, bin, args, report, count) {
  const file = join(root, report);
  rmSync(file, { force: true }); // never read a previous run's report
  const ok = run(name, bin, args);
  let counts;
  try {
    counts = count(JSON.parse(readFileSync(file, "utf8")));
  } catch (error) {
    console.error(`${name}: no readable report at ${report} (${existsSync(file) ? error.message : "missing"})`);
    counts = { passed: 0, failed: 0, skipped: 0 };
  }
  // Exited non-zero with no failed test in the report (crash, global setup, unhandled error): 1 failure.
  if (!ok && counts.failed === 0) counts.failed = 1;
  results.push({ name, ...counts });
}

// Lint and format check first: seconds, and a finding fails the run like a test.
check("lint", "biome", ["check", "."]);
check("typecheck", "tsc", ["--noEmit", "-p", "."]);

/** Counts of a Vitest JSON report. A file that fails to load has no failed test of its own: count it once. */
function vitestCounts(r) {
  const brokenFiles = r.testResults.filter((file) => file.status === "failed" && !file.assertionResults.some((t) => t.status === "failed")).length;
  return { passed: r.numPassedTests, failed: r.numFailedTests + brokenFiles, skipped: r.numPendingTests + r.numTodoTests };
}
const vitestRun = (projects, report) => [
  "run",
  ...projects.flatMap((project) => ["--project", project]),
  "--reporter=default",
  "--reporter=json",
  `--outputFile=${report}`,
];

suite("vitest", "vitest", vitestRun(["file", "sqld"], VITEST_REPORT), VITEST_REPORT, vitestCounts);

if (check("next build", "next", ["build"])) {
  suite("playwright", "playwright", ["test"], PLAYWRIGHT_REPORT, (r) => ({
    passed: r.stats.expected + r.stats.flaky,
    failed: r.stats.unexpected,
    skipped: r.stats.skipped,
    flaky: r.stats.flaky,
  }));
} else {
  console.error("playwright: not run, the build failed");
  results.push({ name: "playwright", passed: 0, failed: 1, skipped: 0 });
}

// Last and alone: whole builds of copies, which would slow the timing-sensitive suites beside them.
suite("builds of a copy", "vitest", vitestRun(["vercel"], VERCEL_REPORT), VERCEL_REPORT, vitestCounts);

let passed = 0;
let failed = 0;
console.log("\n=== summary");
for (const r of results) {
  const skippedFailures = ci ? r.skipped : 0;
  passed += r.passed;
  failed += r.failed + skippedFailures;
  const skipped = r.skipped ? `, skipped ${r.skipped}${ci ? " (counted as failed: CI=true)" : ""}` : "";
  const flaky = r.flaky ? ` (${r.flaky} of them only on a retry: see "flaky" in the report above)` : "";
  console.log(`${r.name}: passed ${r.passed}${flaky}, failed ${r.failed}${skipped}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
