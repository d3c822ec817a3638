#!/usr/bin/env node
/**
 * `npm run lighthouse`: Lighthouse (desktop preset) on /register, /verify and /login of the production
 * build, with Debian's Chromium. The target is performance, accessibility and best practices all 100.
 *
 * Without BASE_URL it starts what the app needs the way e2e/global-setup.ts does, from the same
 * testing/ modules: the build (`next build` if there is none), a throwaway Redis, the SMTP sink, a
 * temporary SQLite database and `next start` on a free loopback port, all stopped at the end. With
 * BASE_URL=http://host:port it audits that app instead (a production build: dev mode scores lower).
 *
 * Flags: --runs=N (runs per page, median score kept; default 3), --min=N (lowest passing score, default
 * 100), --pages=/a,/b (default /register,/verify,/login). CHROME_PATH picks the browser (default
 * /usr/bin/chromium). Reports (JSON and HTML) go to test-results/lighthouse/. Exits 1 when a score is
 * below --min.
 *
 * Run with tsx (the npm script does), which loads the TypeScript support modules.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";
import { parseCommandLine } from "./support/args.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "test-results/lighthouse");
const CATEGORIES = ["performance", "accessibility", "best-practices"];
// /verify as a person reaches it from the signup form: the address shown, "code on its way", the resend
// countdown running. The page renders the same whether or not the address has an account.
const DEFAULT_PAGES = ["/register", "/verify?email=ada%40example.test&delivery=sent", "/login"];

const { values: args } = parseCommandLine({ runs: { type: "string" }, min: { type: "string" }, pages: { type: "string" } }, { exitCode: 2 });
const runs = Math.max(1, Number(args.runs ?? 3));
const min = Number(args.min ?? 100);
const pages = args.pages !== undefined ? args.pages.split(",") : DEFAULT_PAGES;
const chromePath = process.env.CHROME_PATH || "/usr/bin/chromium";
if (!existsSync(chromePath)) {
  console.error(`No browser at ${chromePath}: install Debian's chromium (apt-get install -y chromium) or set CHROME_PATH.`);
  process.exit(1);
}

const cleanups = [];
async function cleanUp() {
  while (cleanups.length)
    await cleanups
      .pop()()
      .catch((error) => console.error(`cleanup: ${error.message}`));
}
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => void cleanUp().then(() => process.exit(130)));
}

/** The production app with its own Redis, SMTP sink and database, as e2e/global-setup.ts starts it. */
async function startOwnApp() {
  const { startTestStack } = await import("../testing/services/app-server.ts");
  const stack = await startTestStack({
    root: ROOT,
    logFile: join(ROOT, "test-results/lighthouse-server.log"),
    dataDirPrefix: "lighthouse-app-",
    // Chrome asks the app directly: no proxy in front whose X-Forwarded-For to trust.
    env: { TRUST_PROXY: "false" },
  });
  cleanups.push(() => stack.stop());
  console.log(`[lighthouse] app ${stack.app.url} (log test-results/lighthouse-server.log)`);
  return stack.app.url;
}

/** One Lighthouse run; a run that failed to record (NO_NAVSTART and the like, now and then) is tried again. */
async function audit(url, port, attempts = 3) {
  for (let attempt = 1; ; attempt++) {
    const result = await lighthouse(
      url,
      { port, output: ["json", "html"], logLevel: "error" },
      {
        ...desktopConfig,
        settings: { ...desktopConfig.settings, onlyCategories: CATEGORIES },
      },
    );
    const error = !result ? "no result" : result.lhr.runtimeError ? `${result.lhr.runtimeError.code} ${result.lhr.runtimeError.message}` : "";
    if (!error) return result;
    if (attempt >= attempts) throw new Error(`${url}: ${error}`);
    console.warn(`[lighthouse] ${url}: ${error}; trying again`);
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
};

const buildId = () => (existsSync(join(ROOT, ".next/BUILD_ID")) ? readFileSync(join(ROOT, ".next/BUILD_ID"), "utf8") : "");

async function main() {
  const baseUrl = process.env.BASE_URL ? process.env.BASE_URL.replace(/\/$/, "") : await startOwnApp();
  const startedOnBuild = buildId();
  mkdirSync(OUT, { recursive: true });

  const chrome = await chromeLauncher.launch({
    chromePath,
    chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-quic"],
  });
  cleanups.push(async () => chrome.kill());

  // One request to each page first: the first render after `next start` compiles and warms caches, which
  // is start-up cost, not what a visitor sees.
  for (const path of pages) await fetch(`${baseUrl}${path}`).then((res) => res.arrayBuffer());

  const rows = [];
  const problems = [];
  for (const path of pages) {
    const url = `${baseUrl}${path}`;
    const scores = Object.fromEntries(CATEGORIES.map((id) => [id, []]));
    let lastLhr;
    for (let run = 0; run < runs; run++) {
      const { lhr, report } = await audit(url, chrome.port);
      for (const id of CATEGORIES) scores[id].push(Math.round((lhr.categories[id].score ?? 0) * 100));
      const name = new URL(url).pathname.replace(/^\//, "").replace(/\W+/g, "-") || "home";
      writeFileSync(join(OUT, `${name}${runs > 1 ? `-${run + 1}` : ""}.report.json`), report[0]);
      writeFileSync(join(OUT, `${name}${runs > 1 ? `-${run + 1}` : ""}.report.html`), report[1]);
      lastLhr = lhr;
    }
    const row = { page: new URL(url).pathname, ...Object.fromEntries(CATEGORIES.map((id) => [id, median(scores[id])])) };
    rows.push(row);
    // What cost points, from the last run: audits that count towards a category and did not pass.
    for (const id of CATEGORIES) {
      if (row[id] >= min) continue;
      const failing = lastLhr.categories[id].auditRefs
        .filter((ref) => ref.weight > 0)
        .map((ref) => lastLhr.audits[ref.id])
        .filter((audit) => audit.score !== null && audit.score < 1)
        .map((audit) => `${audit.id} (${Math.round(audit.score * 100)}${audit.displayValue ? `, ${audit.displayValue}` : ""})`);
      problems.push(`${row.page} ${id} ${row[id]}: ${failing.join(", ") || "no single audit below 1"}`);
    }
  }

  // A `next build` in this tree while the audit ran swaps the files under `next start` (500s, missing CSS).
  if (!process.env.BASE_URL && buildId() !== startedOnBuild) {
    throw new Error("The build in .next changed while Lighthouse ran (another `next build` in this tree): the scores are void. Run again.");
  }

  const header = ["page", ...CATEGORIES];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(Object.values(r)[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
  console.log(`\nLighthouse ${lighthouseVersion()} (desktop preset, ${chromePath}${runs > 1 ? `, median of ${runs} runs` : ""})\n`);
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(line(Object.values(row)));
  console.log(`\nReports: ${OUT}`);
  if (problems.length) {
    console.error(`\nBelow ${min}:\n  ${problems.join("\n  ")}`);
    process.exitCode = 1;
  }
}

function lighthouseVersion() {
  try {
    return JSON.parse(readFileSync(join(ROOT, "node_modules/lighthouse/package.json"), "utf8")).version;
  } catch {
    return "";
  }
}

try {
  await main();
} catch (error) {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
