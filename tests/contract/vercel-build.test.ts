import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "@/lib/platform/config";

/**
 * What Vercel would deploy: `npm run vercel:build` (the vercel CLI's own build, offline, in a temporary copy) and
 * checks over its .vercel/output. Slow (a full next build): the "vercel" Vitest project, run by scripts/test-all.mjs
 * after the browser tests.
 */

const ROOT = process.cwd();
/** Vercel's limit for a function's files, uncompressed. */
const VERCEL_FUNCTION_LIMIT_BYTES = 250 * 1024 * 1024;

let work: string;
let output: string;

beforeAll(() => {
  const build = spawnSync(process.execPath, [join(ROOT, "scripts/vercel-build.mjs"), "--keep-workdir"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    timeout: 420_000,
  });
  const log = `${build.stdout}${build.stderr}`;
  expect(build.status, log.slice(-4000)).toBe(0);
  work = /^workdir: (.+)$/m.exec(build.stdout)![1]!;
  output = join(work, ".vercel/output");
}, 480_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every page and route handler under app/, as the URL path Vercel names its function after. */
function appRoutes(dir = join(ROOT, "app")): string[] {
  const routes: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) routes.push(...appRoutes(path));
    else if (/^(page\.tsx|route\.ts)$/.test(entry.name)) {
      const segments = relative(join(ROOT, "app"), dir)
        .split(sep)
        .filter((s) => s && !/^\(.+\)$/.test(s)); // route groups are not in the URL
      routes.push(segments.length ? segments.join("/") : "index");
    }
  }
  return routes.sort();
}

/** The function folders, each once (many are symlinks to a shared one). */
function functionDirs(): Map<string, string[]> {
  const byTarget = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (entry.endsWith(".func")) {
        const target = realpathSync(path);
        byTarget.set(target, [...(byTarget.get(target) ?? []), relative(join(output, "functions"), path)]);
      } else if (lstatSync(path).isDirectory()) walk(path);
    }
  };
  walk(join(output, "functions"));
  return byTarget;
}

function vcConfig(funcDir: string): { runtime: string; filePathMap?: Record<string, string> } {
  return JSON.parse(readFileSync(join(funcDir, ".vc-config.json"), "utf8"));
}

/** Bytes of the files inside a folder (not following symlinks). */
function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

describe("vercel build's output", () => {
  it("has a function for every page and route handler of the app", () => {
    const routes = appRoutes();
    expect(routes.length).toBeGreaterThan(20);
    const missing = routes.filter((route) => !existsSync(join(output, "functions", `${route}.func`, ".vc-config.json")));
    expect(missing).toEqual([]);
  });

  it("runs every function on the Node major the tests run on", () => {
    const expected = `nodejs${process.versions.node.split(".")[0]}.x`;
    const runtimes = new Set([...functionDirs().keys()].map((dir) => vcConfig(dir).runtime));
    expect([...runtimes]).toEqual([expected]);
  });

  it("registers the cleanup cron of vercel.json", () => {
    const config = JSON.parse(readFileSync(join(output, "config.json"), "utf8"));
    const { crons } = JSON.parse(readFileSync(join(ROOT, "vercel.json"), "utf8"));
    expect(crons).toContainEqual(expect.objectContaining({ path: "/api/cron/cleanup" }));
    expect(config.crons).toEqual(crons);
  });

  it("keeps each function's traced files far below Vercel's 250 MB", () => {
    const sizes: Array<[string, number]> = [];
    for (const [dir, names] of functionDirs()) {
      let bytes = folderBytes(dir);
      for (const source of Object.values(vcConfig(dir).filePathMap ?? {})) {
        const file = join(work, source);
        expect(existsSync(file), `${names[0]} traces ${source}`).toBe(true);
        bytes += statSync(file).size;
      }
      sizes.push([names[0]!, bytes]);
    }
    const [largest, bytes] = sizes.sort((a, b) => b[1] - a[1])[0]!;
    expect(bytes, `${largest}: ${(bytes / 1024 / 1024).toFixed(1)} MB`).toBeLessThan(VERCEL_FUNCTION_LIMIT_BYTES / 2);
  });

  it("ships no database file and no data folder", () => {
    const shipped = [...functionDirs().keys()].flatMap((dir) => Object.keys(vcConfig(dir).filePathMap ?? {}));
    expect(shipped.filter((file) => /\.db(-wal|-shm)?$|^data\//.test(file))).toEqual([]);
  });
});

describe("nothing writes to the file system on Vercel", () => {
  it("the embedded file database (the one thing the app writes) refuses to start there", () => {
    const env = {
      VERCEL: "1",
      AUTH_SECRET: "x".repeat(40),
      UPSTASH_REDIS_REST_URL: "https://example.upstash.io",
      UPSTASH_REDIS_REST_TOKEN: "token",
      RESEND_API_KEY: "re_test",
    };
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(/DATABASE_URL points to a local file/);
    expect(() => parseConfig({ ...env, DATABASE_URL: "libsql://db-org.turso.io", DATABASE_AUTH_TOKEN: "t" })).not.toThrow();
  });

  it("no server code other than the file database's opener writes files", () => {
    const writers: string[] = [];
    const scan = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) scan(path);
        else if (/\.(ts|tsx|mjs)$/.test(entry.name) && !entry.name.includes(".test.")) {
          const text = readFileSync(path, "utf8");
          // A file write needs node:fs; only modules that import it are searched for its writing calls.
          const importsFs = /from\s+["'](?:node:)?fs(?:\/promises)?["']|require\(\s*["'](?:node:)?fs(?:\/promises)?["']\s*\)/.test(text);
          if (importsFs && /\b(writeFile|appendFile|mkdir|createWriteStream|rmSync|rename|unlink|copyFile|cpSync)(?:Sync)?\s*\(/.test(text))
            writers.push(relative(ROOT, path));
        }
      }
    };
    for (const dir of ["app", "lib", "db", "components"]) scan(join(ROOT, dir));
    for (const file of ["proxy.ts", "instrumentation.ts"]) if (/\bwriteFile|mkdir/.test(readFileSync(join(ROOT, file), "utf8"))) writers.push(file);
    // db/client.ts creates the folder of a file: database only; the test above shows Vercel refuses one.
    expect(writers).toEqual(["db/client.ts"]);
  });
});
