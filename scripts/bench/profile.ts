/**
 * Reads a V8 .cpuprofile written by `node --cpu-prof` (the server under `npm run bench -- --profile`) and
 * says where the main thread's time went inside each bench phase: self time by module (package or app file)
 * and by function, per request. Bundled server chunks (.next/server) are mapped back to their sources
 * through the build's source maps, so "zod" or "lib/accounts/accounts.ts" shows instead of a chunk hash.
 *
 * Sample times use the same clock as process.hrtime() (CLOCK_MONOTONIC), so the bench's phase windows
 * select the samples directly. Argon2 runs on libuv's thread pool and is not in this (main-thread) profile.
 *
 * Also runnable on its own: `npx tsx scripts/bench/profile.ts file.cpuprofile [latest.json]`.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCommandLine } from "../support/args.mjs";
import { decodeMappings, safeDecode, sourceMapFileOf } from "../support/source-map.mjs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileWindow {
  name: string;
  startUs: number;
  endUs: number;
  /** Requests (or flows) completed in the window, to turn totals into per-request figures. */
  requests: number;
  /** The main thread's CPU time per item as the kernel counted it (/proc), to compare with the sampled busy time. */
  mainThreadCpuMsPerItem?: number;
}

export interface WindowSummary {
  name: string;
  wallMs: number;
  busyMs: number;
  idleMs: number;
  gcMs: number;
  requests: number;
  busyMsPerRequest: number;
  mainThreadCpuMsPerItem?: number;
  byModule: Array<{ module: string; ms: number; perRequestMs: number; share: number }>;
  byFunction: Array<{ fn: string; module: string; ms: number; perRequestMs: number; share: number }>;
  /** Time with the module anywhere on the stack (what it and everything it calls cost), packages and app files. */
  inclusiveByModule: Array<{ module: string; ms: number; perRequestMs: number; share: number }>;
  /** Time with the app function on the stack (synchronous stretches; each resumption after an await counts again). */
  inclusiveAppFunctions: Array<{ fn: string; ms: number; perRequestMs: number; share: number }>;
}

export interface ProfileSummary {
  file: string;
  windows: WindowSummary[];
  text: string;
}

/** Where a frame's code lives: a package name, an app file, node internals, or a V8 pseudo-frame. */
function classify(root: string, maps: MapCache, frame: CallFrame): { module: string; where: string } {
  const { url, functionName, lineNumber, columnNumber } = frame;
  if (!url) {
    if (functionName.startsWith("(")) return { module: functionName, where: "" };
    return { module: "(V8 builtins / native)", where: "" };
  }
  if (url.startsWith("node:")) {
    const name = url.slice(5).replace(/^internal\//, "");
    return { module: `node:${name.split("/")[0]}`, where: url };
  }
  let file = url.startsWith("file://") ? fileURLToPath(url) : safeDecode(url);
  let line = lineNumber + 1;
  if (file.includes("/.next/")) {
    // A profile of a run from the bench's temporary copy, read later: look in this project's build instead.
    if (!existsSync(file)) file = join(root, ".next", file.slice(file.indexOf("/.next/") + "/.next/".length));
    const original = maps.lookup(file, lineNumber + 1, columnNumber);
    if (original) {
      file = original.source;
      line = original.line;
    }
  }
  const rel = relative(root, file);
  const nm = rel.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const parts = rel.slice(nm + "node_modules/".length).split("/");
    const first = parts[0] ?? "";
    let pkg = first.startsWith("@") ? `${first}/${parts[1]}` : first;
    const rest = parts.slice(pkg.split("/").length);
    if (pkg === "next") {
      // next ships its own dependencies precompiled; name them.
      const compiled = rest.indexOf("compiled");
      if (compiled >= 0 && rest[compiled + 1])
        pkg = `next/compiled/${rest[compiled + 1] === "next-server" ? `next-server/${rest[compiled + 2]?.split(".")[0]}` : rest[compiled + 1]}`;
      else if (rest[0] === "dist" && rest[1]) pkg = `next/${rest[1]}${rest[1] === "server" && rest[2] ? `/${rest[2].replace(/\.js$/, "")}` : ""}`;
    }
    return { module: pkg, where: `${rel.slice(nm + "node_modules/".length)}:${line}` };
  }
  if (rel.startsWith(".next/")) return { module: ".next (unmapped)", where: `${rel}:${line}` };
  if (rel.startsWith("..")) return { module: file, where: `${file}:${line}` };
  return { module: rel, where: `${rel}:${line}` };
}

/** Source map v3 lookups (scripts/support/source-map.mjs), one parsed map per bundled chunk. */
class MapCache {
  private readonly maps = new Map<string, { sources: string[]; lines: Int32Array[] } | null>();

  lookup(file: string, line: number, column: number): { source: string; line: number } | undefined {
    let map = this.maps.get(file);
    if (map === undefined) {
      map = null;
      try {
        const tail = existsSync(file) ? readFileSync(file, "utf8").slice(-300) : "";
        const mapFile = sourceMapFileOf(file, tail);
        if (existsSync(mapFile)) map = parseMap(JSON.parse(readFileSync(mapFile, "utf8")));
      } catch {
        map = null;
      }
      this.maps.set(file, map);
    }
    const segments = map?.lines[line - 1];
    if (!map || !segments || segments.length === 0) return undefined;
    // Segments are [generatedColumn, sourceIndex, sourceLine, sourceColumn] flattened; the last one at or before the column.
    let lo = 0;
    let hi = segments.length / 4 - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      // mid and found count whole segments of four numbers: these indexes are in range.
      if (segments[mid * 4]! <= column) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) found = 0;
    const source = map.sources[segments[found * 4 + 1]!];
    if (source === undefined) return undefined;
    return { source: resolve(dirname(file), safeDecode(source).replace(/^turbopack:\/\/\/\[project\]\//, "")), line: segments[found * 4 + 2]! + 1 };
  }
}

function parseMap(raw: { sources?: string[]; mappings?: string; sections?: unknown[] }): { sources: string[]; lines: Int32Array[] } | null {
  if (!raw.mappings || !raw.sources) return null; // index maps (sections) are not produced by this build
  return { sources: raw.sources, lines: decodeMappings(raw.mappings, { mappedOnly: true }) };
}

export function summariseProfile(file: string, windows: ProfileWindow[], root: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const maps = new MapCache();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const isApp = (module: string) => /^(lib|db|app|components)\/|^(proxy|instrumentation|server)\.(ts|mjs)$/.test(module);
  // For each node: the distinct modules and app functions on its stack (itself and its ancestors).
  const stackCache = new Map<number, { modules: Set<string>; appFns: Set<string> }>();
  const stackOf = (id: number): { modules: Set<string>; appFns: Set<string> } => {
    let hit = stackCache.get(id);
    if (hit) return hit;
    const up = parent.has(id) ? stackOf(parent.get(id)!) : { modules: new Set<string>(), appFns: new Set<string>() };
    const { module, fn } = describe(id);
    const own = !module.startsWith("(") && !module.startsWith("node:");
    hit = {
      modules: own && !up.modules.has(module) ? new Set([...up.modules, module]) : up.modules,
      appFns: isApp(module) && !up.appFns.has(fn) ? new Set([...up.appFns, fn]) : up.appFns,
    };
    stackCache.set(id, hit);
    return hit;
  };
  const info = new Map<number, { module: string; fn: string }>();
  const describe = (id: number) => {
    let hit = info.get(id);
    if (!hit) {
      const frame = byId.get(id)!.callFrame;
      const { module, where } = classify(root, maps, frame);
      hit = { module, fn: `${frame.functionName || "(anonymous)"}${where ? ` ${where}` : ""}` };
      info.set(id, hit);
    }
    return hit;
  };

  // Sample i happens at startTime + sum(timeDeltas[0..i]) and stands for the time until the next one.
  const times: number[] = new Array(profile.samples.length);
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!; // one delta per sample
    times[i] = t;
  }

  const summaries: WindowSummary[] = [];
  for (const w of windows) {
    const modules = new Map<string, number>();
    const fns = new Map<string, { module: string; us: number }>();
    const inclusiveModules = new Map<string, number>();
    const inclusiveFns = new Map<string, number>();
    let idle = 0;
    let gc = 0;
    let total = 0;
    for (let i = 0; i < times.length - 1; i++) {
      const at = times[i]!;
      if (at < w.startUs || at >= w.endUs) continue;
      const dt = times[i + 1]! - at;
      total += dt;
      const { module, fn } = describe(profile.samples[i]!);
      if (module === "(idle)") {
        idle += dt;
        continue;
      }
      if (module === "(garbage collector)") gc += dt;
      const stack = stackOf(profile.samples[i]!);
      for (const m of stack.modules) inclusiveModules.set(m, (inclusiveModules.get(m) ?? 0) + dt);
      for (const f of stack.appFns) inclusiveFns.set(f, (inclusiveFns.get(f) ?? 0) + dt);
      modules.set(module, (modules.get(module) ?? 0) + dt);
      const entry = fns.get(fn) ?? { module, us: 0 };
      entry.us += dt;
      fns.set(fn, entry);
    }
    const busy = total - idle;
    const perReq = (us: number) => us / 1000 / Math.max(1, w.requests);
    summaries.push({
      name: w.name,
      wallMs: (w.endUs - w.startUs) / 1000,
      busyMs: busy / 1000,
      idleMs: idle / 1000,
      gcMs: gc / 1000,
      requests: w.requests,
      busyMsPerRequest: perReq(busy),
      mainThreadCpuMsPerItem: w.mainThreadCpuMsPerItem,
      byModule: [...modules]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([module, us]) => ({ module, ms: us / 1000, perRequestMs: perReq(us), share: busy ? us / busy : 0 })),
      byFunction: [...fns]
        .sort((a, b) => b[1].us - a[1].us)
        .slice(0, top)
        .map(([fn, { module, us }]) => ({ fn, module, ms: us / 1000, perRequestMs: perReq(us), share: busy ? us / busy : 0 })),
      inclusiveByModule: [...inclusiveModules]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top + 6)
        .map(([module, us]) => ({ module, ms: us / 1000, perRequestMs: perReq(us), share: busy ? us / busy : 0 })),
      inclusiveAppFunctions: [...inclusiveFns]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([fn, us]) => ({ fn, ms: us / 1000, perRequestMs: perReq(us), share: busy ? us / busy : 0 })),
    });
  }
  return { file, windows: summaries, text: renderSummary(file, summaries) };
}

function renderSummary(file: string, windows: WindowSummary[]): string {
  const out = [`Main-thread CPU profile of the server (${relative(process.cwd(), file)}); self time, busy = not idle:`];
  const pct = (v: number) => `${(v * 100).toFixed(0)}%`.padStart(4);
  const ms = (v: number) => v.toFixed(v >= 10 ? 1 : 2).padStart(7);
  for (const w of windows) {
    if (w.wallMs <= 0) continue;
    out.push(
      "",
      `${w.name}: ${w.requests} done in ${(w.wallMs / 1000).toFixed(1)} s; main thread busy ${pct(w.busyMs / w.wallMs).trim()} of wall time ` +
        `(${w.busyMsPerRequest.toFixed(2)} ms per item, GC ${(w.gcMs / Math.max(1, w.requests)).toFixed(2)} ms` +
        (w.mainThreadCpuMsPerItem !== undefined
          ? `; the kernel counted ${w.mainThreadCpuMsPerItem.toFixed(2)} ms of main-thread CPU per item: sampled time above that is time the thread was runnable but waiting for a core)`
          : ")"),
      "  self time by module                         ms/item  share",
      ...w.byModule.map((m) => `  ${m.module.slice(0, 42).padEnd(42)} ${ms(m.perRequestMs)}  ${pct(m.share)}`),
      "  top functions (self)                                                       ms/item  share",
      ...w.byFunction.map((f) => `  ${f.fn.slice(0, 74).padEnd(74)} ${ms(f.perRequestMs)}  ${pct(f.share)}`),
      "  on the stack (inclusive) by module                  ms/item  share",
      ...w.inclusiveByModule.map((m) => `  ${m.module.slice(0, 50).padEnd(50)} ${ms(m.perRequestMs)}  ${pct(m.share)}`),
      "  on the stack (inclusive), app functions                                    ms/item  share",
      ...w.inclusiveAppFunctions.map((f) => `  ${f.fn.slice(0, 74).padEnd(74)} ${ms(f.perRequestMs)}  ${pct(f.share)}`),
    );
  }
  return out.join("\n");
}

// Standalone: re-summarise a profile with the phase windows of a bench-results/latest.json.
if (process.argv[1] && resolve(process.argv[1]) === resolve(__filename)) {
  const { positionals } = parseCommandLine({}, { allowPositionals: true, exitCode: 2 });
  const [profileFile, resultsFile = join(process.cwd(), "bench-results/latest.json")] = positionals;
  if (!profileFile) {
    console.error("usage: tsx scripts/bench/profile.ts <file.cpuprofile> [bench-results/latest.json]");
    process.exit(2);
  }
  const results = JSON.parse(readFileSync(resultsFile, "utf8")) as {
    phases: Array<{ name: string; windowUs: [number, number]; count: number; serverMainThreadCpuSeconds?: number }>;
  };
  const windows = results.phases.map((p) => ({
    name: p.name,
    startUs: p.windowUs[0],
    endUs: p.windowUs[1],
    requests: p.count,
    mainThreadCpuMsPerItem: p.serverMainThreadCpuSeconds === undefined ? undefined : (p.serverMainThreadCpuSeconds * 1000) / p.count,
  }));
  console.log(summariseProfile(resolve(profileFile), windows, process.cwd()).text);
}
