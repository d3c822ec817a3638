/** The targets the run is judged by, each against a limit measured in the same run where it can be. */
import type { Ceiling } from "./phases/ceiling";
import type { PhaseResult } from "./phases/measure";
import { AUTH_PAGES } from "./phases/product";
import type { SoakResult } from "./phases/soak";
import { fmt, kNum } from "./stats";

export interface Target {
  name: string;
  limit: string;
  measured: string;
  met: boolean | null;
}

export function evaluateTargets(ceiling: Ceiling | undefined, phases: PhaseResult[], soak?: SoakResult): Target[] {
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
  add(
    "(info) flows/s vs measured ceiling",
    ceiling ? ceiling.measuredParallelPairsPerSecond * 0.7 : undefined,
    flow8?.perSecond,
    "/s",
    false,
    " (70% of side-by-side)",
  );
  add("GET /register p95, c=16", 20, phases.find((p) => p.name === "GET /register c=16")?.steps.page?.p95, "ms");
  add("server RSS max, flow c=8", 300, flow8?.rssMaxMb, "MB");
  // What Next itself costs here, under the same load (scripts/bench/floor.ts): no product code can go below it.
  const floor = (name: string) => phases.find((p) => p.name.startsWith(`floor: ${name} c=16`));
  add("(floor) no-op JSON POST p95, c=16", 5, floor("no-op JSON POST")?.steps.request?.p95, "ms", true, " (as verify)");
  add("(floor) nonce page p95, c=16", 20, floor("nonce page")?.steps.page?.p95, "ms", true, " (as GET /register)");
  add("(floor) static page p95, c=16", 20, floor("static page")?.steps.page?.p95, "ms", true, " (as GET /register)");
  // The API paths against the floor's no-op JSON POST and Argon2id, measured in the same run. The floor phase runs at
  // c=16 only, so the concurrency-1 sums use its p50 at 16: a bound looser than a floor at 1 would give.
  const floorPost = floor("no-op JSON POST")?.steps.request;
  add(
    "verify p95, c=16 vs floor no-op JSON POST",
    floorPost ? floorPost.p95 * 1.25 : undefined,
    find("verify", 16)?.steps.verify?.p95,
    "ms",
    true,
    ` (1.25x floor ${fmt(floorPost?.p95)})`,
  );
  add(
    "logins/s, c=16 vs Argon2id verifies/s side by side",
    ceiling ? ceiling.measuredParallelVerifiesPerSecond * 0.85 : undefined,
    find("login", 16)?.perSecond,
    "/s",
    false,
    ` (85% of ${fmt(ceiling?.measuredParallelVerifiesPerSecond)})`,
  );
  // The same bound on the floor's route that does nothing but one Argon2id verify: where it falls short, no login can make it.
  add(
    "(floor) Argon2id verify route/s, c=16 vs Argon2id verifies/s side by side",
    ceiling ? ceiling.measuredParallelVerifiesPerSecond * 0.85 : undefined,
    floor("Argon2id verify JSON POST")?.perSecond,
    "/s",
    false,
    ` (85% of ${fmt(ceiling?.measuredParallelVerifiesPerSecond)})`,
  );
  const plusFloor = (ref: number | undefined) => (ref === undefined || !floorPost ? undefined : ref + floorPost.p50 + 3);
  add(
    "login p50, c=1 vs verify + floor",
    plusFloor(verifyRef),
    login1?.steps.login?.p50,
    "ms",
    true,
    ` (verify ${fmt(verifyRef)} + floor p50 ${fmt(floorPost?.p50)} + 3)`,
  );
  add(
    "register p50, c=1 vs hash + floor",
    plusFloor(hashRef),
    flow1?.steps.register?.p50,
    "ms",
    true,
    ` (hash ${fmt(hashRef)} + floor p50 ${fmt(floorPost?.p50)} + 3)`,
  );
  // Prerendered auth pages against the floor's prerendered page, in the same run.
  const staticFloor = floor("static page")?.steps.page?.p95;
  for (const path of AUTH_PAGES) {
    const p95 = phases.find((p) => p.name === `GET ${path} c=16`)?.steps.page?.p95;
    add(
      `GET ${path} p95, c=16 vs floor static page`,
      staticFloor === undefined ? undefined : staticFloor * 1.3,
      p95,
      "ms",
      true,
      ` (1.3x floor ${fmt(staticFloor)})`,
    );
  }
  // Flat at scale: p50 with the most accounts no worse than 1.25x (+1 ms) the one with the fewest.
  for (const kind of ["verify", "login"] as const) {
    const runs = phases.filter((p) => p.kind === kind && p.name.includes("@") && p.concurrency === 16).sort((a, b) => a.accounts - b.accounts);
    if (runs.length >= 2) {
      const first = runs[0]!.steps[kind]?.p50;
      const last = runs[runs.length - 1]!.steps[kind]?.p50;
      if (first !== undefined && last !== undefined) {
        add(`${kind} p50 flat, ${kNum(runs[0]!.accounts)} -> ${kNum(runs[runs.length - 1]!.accounts)}`, first * 1.25 + 1, last, "ms", true, " (1.25x + 1)");
      }
    }
  }
  // The soak (scripts/bench/phases/soak.ts), at a rate well below saturation. Any error there is a fault: the load is
  // steady and every expected refusal is already counted as OK. A p95 that grows by half from the first minute after
  // the warm-up to the last one means something accumulates (a queue, a table scan, GC pressure); less is within the
  // window-to-window spread of a shared 2-core machine. 1 MB a minute is 60 MB an hour, which the 192 MB heap cap
  // and a day's uptime could not carry; a heap that has settled wobbles by a few MB either way instead.
  add("soak errors", 0, soak?.errors, "");
  add("soak p95 drift, last window / first after warm-up", 1.5, soak?.p95DriftRatio, "x");
  add("soak server RSS slope after warm-up", 1, soak?.rssSlopeMbPerMin, "MB/min");
  return targets;
}
