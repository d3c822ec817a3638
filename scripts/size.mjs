#!/usr/bin/env node
/**
 * `npm run size`: the JavaScript each page sends on first load, from the production build.
 *
 * Reads .next/diagnostics/route-bundle-stats.json (building first when it is missing, or with --build),
 * gzips each route's first-load chunks (zlib level 9, like Next's old "First Load JS"; 1 kB = 1000 bytes),
 * and prints every page beside the baseline and the budget. Exits 1 when a page of the signup, login,
 * recovery or account flows is over 155 kB.
 *
 * Baseline: the smallest route of the build. Its chunks are the ones every page loads (React 19, react-dom,
 * the Next.js runtime, the root layout); in this app /_not-found is that trivial page. "+base" is what a page
 * adds on top.
 *
 * Flags: --build (rebuild first), --json (machine-readable output), --modules=N (heaviest N modules of each
 * budgeted page's own chunks; default 8, 0 to skip), --shared (also list the heaviest modules of the baseline),
 * --sources (attribute the bytes to packages exactly: builds a copy of the working tree in a temporary folder
 * with productionBrowserSourceMaps and reads the maps; about 30 s; the project's own .next is not touched),
 * --files (with --sources: per source file instead of per package).
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { gzipSync } from "node:zlib";
import { parseCommandLine } from "./support/args.mjs";
import { decodeMappings, sourceMapFileOf } from "./support/source-map.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const STATS = join(ROOT, ".next/diagnostics/route-bundle-stats.json");
const BUDGET_BYTES = 155_000;
const BUDGETED = ["/register", "/verify", "/login", "/forgot-password", "/reset-password", "/login-code", "/login-code/verify", "/account", "/account/email"];
const SHOWN = ["/register", "/verify", "/login", "/", "/account"];

const { values: args } = parseCommandLine(
  {
    build: { type: "boolean" },
    json: { type: "boolean" },
    modules: { type: "string" },
    shared: { type: "boolean" },
    sources: { type: "boolean" },
    files: { type: "boolean" },
  },
  { exitCode: 2 },
);
const moduleCount = Number(args.modules ?? 8);

if (args.build || !existsSync(STATS)) {
  console.log(args.build ? "Building (--build)" : `${STATS} is missing: building (next build)`);
  const build = spawnSync(process.execPath, [join(ROOT, "node_modules/next/dist/bin/next"), "build"], {
    cwd: ROOT,
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (build.status !== 0) {
    console.error(`next build failed (exit ${build.status ?? build.signal})`);
    process.exit(1);
  }
}

/** @type {Array<{ route: string; firstLoadUncompressedJsBytes: number; firstLoadChunkPaths: string[] }>} */
const stats = JSON.parse(readFileSync(STATS, "utf8"));
if (!Array.isArray(stats) || !stats.every((r) => typeof r.route === "string" && Array.isArray(r.firstLoadChunkPaths))) {
  console.error(`${STATS} does not have the expected shape ([{ route, firstLoadChunkPaths: [...] }]); Next.js may have changed it.`);
  process.exit(1);
}

const chunkCache = new Map();
function chunk(path) {
  let entry = chunkCache.get(path);
  if (!entry) {
    const file = join(ROOT, path);
    if (!existsSync(file)) {
      console.error(`${path} (listed in route-bundle-stats.json) is missing: the build is incomplete or stale; run with --build.`);
      process.exit(1);
    }
    const source = readFileSync(file);
    entry = { path, raw: source.length, gzip: gzipSync(source, { level: 9 }).length, source };
    chunkCache.set(path, entry);
  }
  return entry;
}

const routes = stats
  .filter((r) => !r.route.startsWith("/api/") && !r.route.startsWith("/_global-error"))
  .map((r) => {
    const chunks = r.firstLoadChunkPaths.map(chunk);
    return { route: r.route, chunks, raw: chunks.reduce((a, c) => a + c.raw, 0), gzip: chunks.reduce((a, c) => a + c.gzip, 0) };
  });
const baseline = routes.reduce((min, r) => (r.gzip < min.gzip ? r : min), routes[0]);
const baselineChunks = new Set(baseline.chunks.map((c) => c.path));
const baselineNames = routes.filter((r) => r.gzip === baseline.gzip).map((r) => r.route);

const kB = (bytes) => (bytes / 1000).toFixed(1);
const shown = [...SHOWN.filter((name) => routes.some((r) => r.route === name)), ...routes.map((r) => r.route).filter((n) => !SHOWN.includes(n))];
const rows = shown.map((name) => {
  const r = routes.find((x) => x.route === name);
  const budgeted = BUDGETED.includes(name);
  return {
    route: name,
    gzip: r.gzip,
    raw: r.raw,
    overBaseline: r.gzip - baseline.gzip,
    budget: budgeted ? BUDGET_BYTES : null,
    status: budgeted ? (r.gzip <= BUDGET_BYTES ? "ok" : "OVER") : "",
    ownChunks: r.chunks.filter((c) => !baselineChunks.has(c.path)).map((c) => ({ path: c.path, gzip: c.gzip })),
  };
});
const missing = BUDGETED.filter((name) => !routes.some((r) => r.route === name));
const over = rows.filter((r) => r.status === "OVER");

// ------------------------------------------------------------------------------------------ modules

/** Splits a Turbopack chunk into its modules (id -> factory source) by running it with a stub TURBOPACK array. */
function modulesOf(c) {
  const sandbox = { TURBOPACK: [] };
  sandbox.globalThis = sandbox;
  sandbox.self = sandbox;
  try {
    vm.runInNewContext(c.source.toString("utf8"), sandbox, { timeout: 2000 });
  } catch {
    return [{ id: "(whole chunk)", source: c.source.toString("utf8") }];
  }
  const out = [];
  for (const push of sandbox.TURBOPACK) {
    if (!Array.isArray(push)) continue;
    for (let i = 0; i < push.length; i++) {
      if (typeof push[i] === "function" && i > 0 && typeof push[i - 1] === "number") out.push({ id: push[i - 1], source: push[i].toString() });
    }
  }
  return out.length ? out : [{ id: "(runtime)", source: c.source.toString("utf8") }];
}

/** Best guess at what a minified module is: a known package by its fingerprints, else its export names. */
const FINGERPRINTS = [
  ["react-dom", /__reactContainer|hydrateRoot|__reactFiber|flushSync was called/],
  ["react", /react\.transitional\.element|__CLIENT_INTERNALS_DO_NOT_USE/],
  ["zod/mini", /ZodMini/],
  ["zod classic", /ZodType\b|"ZodString"|ZodEffects/],
  ["zod core", /\$ZodCheck|\$ZodType|\$constructor|_zod\.run/],
  ["zod regexes", /cuid2|emoji|base64url/],
  ["@hookform/resolvers", /standardSchemaResolver|zodResolver|toNestErrors|validateFieldsNatively/],
  ["react-hook-form", /shouldUnregister|reValidateMode|useFormContext/],
  ["@simplewebauthn/browser", /ERROR_CEREMONY_ABORTED|ERROR_INVALID_RP_ID/],
  ["next runtime", /__NEXT|next-router-state-tree|NEXT_REDIRECT|__next_f|next-action/],
];
/** Best guess at what a minified (and possibly merged) module holds: every package whose fingerprint it carries, and its export names. */
function identify(source) {
  const names = [...new Set([...source.matchAll(/\.s\(\[([^\]]{0,400})/g)].flatMap((m) => [...m[1].matchAll(/"([A-Za-z_$][\w$]*)"/g)].map((x) => x[1])))];
  const found = FINGERPRINTS.filter(([, re]) => re.test(source)).map(([name]) => name);
  const hint = names.length ? `exports ${names.slice(0, 5).join(", ")}${names.length > 5 ? ", ..." : ""}` : "";
  return { guess: found.length ? found.join(" + ") : "?", hint };
}

function heaviestModules(chunks, n) {
  const all = [];
  for (const c of chunks) {
    for (const m of modulesOf(c)) {
      const gzip = gzipSync(m.source, { level: 9 }).length;
      all.push({ chunk: c.path.split("/").pop(), id: m.id, raw: m.source.length, gzip, ...identify(m.source) });
    }
  }
  return all.sort((a, b) => b.gzip - a.gzip).slice(0, n);
}

const moduleReport = [];
if (moduleCount > 0) {
  const seen = new Set();
  for (const name of BUDGETED) {
    const r = routes.find((x) => x.route === name);
    if (!r) continue;
    const own = r.chunks.filter((c) => !baselineChunks.has(c.path) && !seen.has(c.path));
    for (const c of own) seen.add(c.path);
    if (own.length)
      moduleReport.push({
        title: `${name}: heaviest modules in chunks beyond the baseline${seen.size > own.length ? " (chunks not already listed above)" : ""}`,
        modules: heaviestModules(own, moduleCount),
      });
  }
  if (args.shared) moduleReport.push({ title: "baseline (every page): heaviest modules", modules: heaviestModules(baseline.chunks, moduleCount * 2) });
}

// ------------------------------------------------------------------------------------------ --sources

/** Builds the working tree in a temporary copy with browser source maps; returns that copy's root. */
function buildWithSourceMaps() {
  const dir = mkdtempSync(join(tmpdir(), "size-sources-"));
  const files = spawnSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  for (const file of files) {
    if (file.startsWith("node_modules/") || !existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(ROOT, file), join(dir, file));
  }
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  const config = ["next.config.mjs", "next.config.js"].find((f) => existsSync(join(dir, f)));
  if (!config) throw new Error("--sources handles next.config.mjs or next.config.js only");
  renameSync(join(dir, config), join(dir, `next.config.orig${config.slice("next.config".length)}`));
  writeFileSync(
    join(dir, "next.config.mjs"),
    `import original from "./next.config.orig${config.slice("next.config".length)}";\n` +
      // The config may be a function of the phase. Root "/" lets Turbopack follow the node_modules symlink back into the project.
      `export default async (...args) => {\n` +
      `  const base = typeof original === "function" ? await original(...args) : original;\n` +
      `  return { ...base, productionBrowserSourceMaps: true, turbopack: { ...(base.turbopack ?? {}), root: "/" } };\n` +
      `};\n`,
  );
  console.log(`--sources: building a copy of the working tree with source maps in ${dir} ...`);
  const build = spawnSync(process.execPath, [join(ROOT, "node_modules/next/dist/bin/next"), "build"], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (build.status !== 0) throw new Error(`next build of the copy failed:\n${(build.stdout + build.stderr).slice(-3000)}`);
  return dir;
}

function packageOf(source, copyRoot) {
  if (args.files)
    return source
      .replace(/^turbopack:\/\/\/\[project\]\//, "/")
      .replace(`${copyRoot}/`, "")
      .replace(/^.*node_modules\//, "");
  if (source.startsWith("turbopack:///[turbopack]/")) return "turbopack runtime";
  const path = source.replace(/^turbopack:\/\/\/\[project\]\//, "/").replace(/^webpack:\/\/\/?/, "/");
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const parts = path.slice(nm + "node_modules/".length).split("/");
    const pkg = parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
    if (pkg === "zod") return parts[1] === "v4" ? `zod/${parts[2]}` : `zod/${parts[1]}`;
    // next vendors React and friends under next/dist/compiled: name them.
    if (pkg === "next" && parts[1] === "dist" && parts[2] === "compiled") return `${parts[3]} (in next)`;
    if (pkg === "next") return `next (${parts[1] === "src" || parts[1] === "dist" ? parts[2] : parts[1]})`;
    return pkg;
  }
  for (const root of [copyRoot, ROOT]) {
    const prefix = root.endsWith("/") ? root : `${root}/`;
    if (path.includes(prefix)) return `app: ${path.slice(path.indexOf(prefix) + prefix.length)}`;
  }
  return `app: ${path.replace(/^\/+/, "")}`;
}

/** Per package: the characters of `chunks` that come from it, gzipped together (a fair estimate of its share). */
function attribute(dir, chunkPaths) {
  const byPackage = new Map();
  for (const path of chunkPaths) {
    const code = readFileSync(join(dir, path), "utf8");
    const mapFile = sourceMapFileOf(join(dir, path), code);
    const add = (pkg, text) => {
      const entry = byPackage.get(pkg) ?? { raw: 0, parts: [] };
      entry.raw += text.length;
      entry.parts.push(text);
      byPackage.set(pkg, entry);
    };
    if (!existsSync(mapFile)) {
      add(`(no source map: ${path.split("/").pop()})`, code);
      continue;
    }
    const map = JSON.parse(readFileSync(mapFile, "utf8"));
    // Which source each generated character comes from: segments of (column, source index, ...), four numbers each.
    const lines = decodeMappings(map.mappings ?? "");
    const codeLines = code.split("\n");
    codeLines.forEach((text, li) => {
      const segs = lines[li] ?? [];
      const count = segs.length / 4;
      if (count === 0) {
        add("(unmapped)", text);
        return;
      }
      if (segs[0] > 0) add("(unmapped)", text.slice(0, segs[0]));
      for (let si = 0; si < count; si++) {
        const col = segs[si * 4];
        const src = segs[si * 4 + 1];
        const end = si + 1 < count ? segs[(si + 1) * 4] : text.length;
        add(src >= 0 && map.sources[src] ? packageOf(map.sources[src], dir) : "(unmapped)", text.slice(col, end));
      }
    });
  }
  return [...byPackage].map(([pkg, { raw, parts }]) => ({ pkg, raw, gzip: gzipSync(parts.join(""), { level: 9 }).length })).sort((a, b) => b.gzip - a.gzip);
}

const sourcesReport = [];
if (args.sources) {
  const dir = buildWithSourceMaps();
  try {
    const copyStats = JSON.parse(readFileSync(join(dir, ".next/diagnostics/route-bundle-stats.json"), "utf8"));
    const pages = copyStats.filter((r) => !r.route.startsWith("/api/"));
    const gz = (r) => r.firstLoadChunkPaths.reduce((a, p) => a + gzipSync(readFileSync(join(dir, p)), { level: 9 }).length, 0);
    const base = pages.reduce((min, r) => (gz(r) < gz(min) ? r : min), pages[0]);
    const baseSet = new Set(base.firstLoadChunkPaths);
    const seen = new Set();
    for (const name of BUDGETED) {
      const r = pages.find((x) => x.route === name);
      if (!r) continue;
      const own = r.firstLoadChunkPaths.filter((p) => !baseSet.has(p));
      const key = own.join(",");
      sourcesReport.push({
        title: `${name} (${kB(gz(r))} kB in the copy): packages in its ${own.length} chunks beyond the baseline${seen.has(key) ? " (same as above)" : ""}`,
        rows: seen.has(key) ? [] : attribute(dir, own).slice(0, Math.max(moduleCount, 12)),
      });
      seen.add(key);
    }
    sourcesReport.push({
      title: `baseline ${base.route} (${kB(gz(base))} kB in the copy): packages`,
      rows: attribute(dir, base.firstLoadChunkPaths).slice(0, Math.max(moduleCount, 12)),
    });
  } finally {
    if (!process.env.SIZE_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------ output

if (args.json) {
  console.log(
    JSON.stringify(
      { budgetBytes: BUDGET_BYTES, baseline: { routes: baselineNames, gzip: baseline.gzip }, routes: rows, modules: moduleReport, sources: sourcesReport },
      null,
      2,
    ),
  );
} else {
  const header = ["page", "first-load JS gzip", "+ baseline", "raw", "budget", ""];
  const body = rows.map((r) => [r.route, `${kB(r.gzip)} kB`, `+${kB(r.overBaseline)} kB`, `${kB(r.raw)} kB`, r.budget ? `${kB(r.budget)} kB` : "", r.status]);
  body.push([`baseline (${baselineNames.join(", ")})`, `${kB(baseline.gzip)} kB`, "", `${kB(baseline.raw)} kB`, "", ""]);
  const widths = header.map((_, i) => Math.max(header[i].length, ...body.map((b) => b[i].length)));
  const line = (cells) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join("  ")
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const b of body) console.log(line(b));
  console.log(
    `\ngzip level 9 per chunk file, summed; 1 kB = 1000 bytes. Baseline = the smallest route (only the chunks every page loads: React, react-dom, the Next.js runtime, the root layout).`,
  );
  for (const report of moduleReport) {
    console.log(`\n${report.title}:`);
    for (const m of report.modules) {
      console.log(`  ${kB(m.gzip).padStart(6)} kB gzip  ${String(m.id).padEnd(7)} ${m.guess.slice(0, 40).padEnd(40)} ${m.hint.slice(0, 50)}  (${m.chunk})`);
    }
  }
  if (moduleReport.length)
    console.log(
      "  (each module gzipped alone, so these add up to a little more than the chunk; Turbopack merges modules, so one entry can hold several packages: --sources separates them)",
    );
  for (const report of sourcesReport) {
    console.log(`\n${report.title}:`);
    for (const row of report.rows) console.log(`  ${kB(row.gzip).padStart(6)} kB gzip  ${kB(row.raw).padStart(7)} kB raw  ${row.pkg}`);
  }
  if (sourcesReport.length) console.log("  (each package's bytes gzipped together, from the source maps of a copy built with productionBrowserSourceMaps)");
}

if (missing.length) {
  console.error(`\nNot in the build: ${missing.join(", ")}`);
  process.exit(1);
}
if (over.length) {
  console.error(`\nOver the ${kB(BUDGET_BYTES)} kB budget: ${over.map((r) => `${r.route} ${kB(r.gzip)} kB (+${kB(r.gzip - BUDGET_BYTES)})`).join(", ")}`);
  process.exit(1);
}
if (!args.json) console.log(`\nAll of ${BUDGETED.join(", ")} within ${kB(BUDGET_BYTES)} kB.`);
