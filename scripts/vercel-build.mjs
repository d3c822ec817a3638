#!/usr/bin/env node
/**
 * npm run vercel:build [-- --output DIR] [-- --keep-workdir]
 *
 * Vercel's own build, offline: copies the repository's files (git ls-files: tracked, plus new files that are
 * not ignored) into a temporary directory beside a link to node_modules, writes a local .vercel/project.json
 * there (never in the repository), runs the vercel CLI's `vercel build --yes` and copies `.vercel/output`
 * to DIR (default test-results/vercel-output). With --keep-workdir the temporary directory stays (its path is
 * printed as "workdir: PATH") instead: the functions' file maps point into it. tests/contract/vercel-build.test.ts uses that.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCommandLine } from "./support/args.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseCommandLine({ output: { type: "string" }, "keep-workdir": { type: "boolean" }, help: { type: "boolean" } });
if (values.help) {
  console.log("Usage: npm run vercel:build [-- --output DIR] [-- --keep-workdir]   (default test-results/vercel-output)");
  process.exit(0);
}
const output = resolve(root, values.output ?? "test-results/vercel-output");
const vercelBin = join(root, "node_modules/.bin/vercel");
if (!existsSync(vercelBin)) {
  console.error("node_modules/.bin/vercel is missing: run `npm ci` (vercel is a devDependency).");
  process.exit(1);
}

const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" });
if (listed.status !== 0) {
  console.error(`git ls-files failed: ${listed.stderr}`);
  process.exit(1);
}
// Deleted but not yet committed files are listed by --cached: copy what exists.
const files = listed.stdout.split("\0").filter((file) => file && existsSync(join(root, file)));

const work = mkdtempSync(join(tmpdir(), "vercel-build-"));
let status = 1;
try {
  for (const file of files) {
    mkdirSync(dirname(join(work, file)), { recursive: true });
    cpSync(join(root, file), join(work, file), { verbatimSymlinks: true });
  }
  symlinkSync(join(root, "node_modules"), join(work, "node_modules"));
  // What `vercel link` would write; with it, `vercel build` needs no account and no network.
  mkdirSync(join(work, ".vercel"));
  writeFileSync(join(work, ".vercel/project.json"), JSON.stringify({ projectId: "prj_local", orgId: "team_local", settings: { framework: "nextjs" } }));

  console.log(`vercel build in ${work} (${files.length} files, node ${process.version})`);
  const started = Date.now();
  const build = spawnSync(vercelBin, ["build", "--yes"], {
    cwd: work,
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", VERCEL_TELEMETRY_DISABLED: "1", CI: "1" },
  });
  status = build.status ?? 1;
  console.log(`vercel build: exit ${build.status ?? build.signal} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (status === 0 && values["keep-workdir"]) {
    console.log(`workdir: ${work}`);
  } else if (status === 0) {
    rmSync(output, { recursive: true, force: true });
    mkdirSync(dirname(output), { recursive: true });
    cpSync(join(work, ".vercel/output"), output, { recursive: true, verbatimSymlinks: true });
    console.log(`output: ${output}`);
  }
} finally {
  if (status !== 0 || !values["keep-workdir"]) rmSync(work, { recursive: true, force: true });
}
process.exitCode = status;
