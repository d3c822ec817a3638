import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Modules with secrets, I/O or rules import "server-only"; tsconfig.json maps that marker to its empty module for
 * tsx, Playwright and the editor. Proof that the mapping does not switch the guard off where it matters: in a copy of
 * the repository, a client component importing the configuration module fails `next build`, with Turbopack (the
 * default) and with webpack (whose resolver also reads tsconfig paths).
 * Slow (two builds of a copy): the "vercel" Vitest project, run by scripts/test-all.mjs at the end.
 */

const ROOT = process.cwd();
let work: string;

beforeAll(() => {
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" });
  expect(listed.status, listed.stderr).toBe(0);
  work = mkdtempSync(join(tmpdir(), "server-only-guard-"));
  for (const file of listed.stdout.split("\0").filter((f) => f && existsSync(join(ROOT, f)))) {
    mkdirSync(dirname(join(work, file)), { recursive: true });
    cpSync(join(ROOT, file), join(work, file), { verbatimSymlinks: true });
  }
  // Hard links, not a symlink: Turbopack resolves nothing outside the project folder.
  const linked = spawnSync("cp", ["-al", join(ROOT, "node_modules"), join(work, "node_modules")], { encoding: "utf8" });
  expect(linked.status, linked.stderr).toBe(0);
  mkdirSync(join(work, "app/server-only-probe"), { recursive: true });
  writeFileSync(
    join(work, "app/server-only-probe/page.tsx"),
    [
      '"use client";',
      'import { getConfig } from "@/lib/platform/config";',
      "",
      "export default function Probe() {",
      "  return <p>{String(getConfig().isProduction)}</p>;",
      "}",
      "",
    ].join("\n"),
  );
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function build(args: string[]) {
  const result = spawnSync(process.execPath, [join(ROOT, "node_modules/next/dist/bin/next"), "build", ...args], {
    cwd: work,
    encoding: "utf8",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    timeout: 300_000,
  });
  return { status: result.status, log: `${result.stdout}${result.stderr}` };
}

describe("the server-only marker in the build", () => {
  it.each([
    ["Turbopack", []],
    ["webpack", ["--webpack"]],
  ])(
    "a client component that imports a server module fails next build (%s)",
    (_name, args) => {
      const { status, log } = build(args);
      expect(status, log.slice(-3000)).not.toBe(0);
      expect(log).toMatch(/importing a module that depends on "server-only"/);
    },
    320_000,
  );
});
