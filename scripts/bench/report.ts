/** What a run prints and writes: the table of phases, the targets, and the cold start (JSON is the results object itself). */
import os from "node:os";
import type { ColdStart } from "./phases/cold";
import type { Ceiling } from "./phases/ceiling";
import { mainStep, type PhaseResult } from "./phases/measure";
import { fmt, kNum } from "./stats";
import type { SoakResult } from "./phases/soak";
import type { Target } from "./targets";

/** The soak's rows in the table: each step of its mix, then every request together. */
const SOAK_STEPS = ["register", "inbox", "verify", "wrong_code", "replay", "login", "page", "all"];

function table(rows: string[][], align: ("l" | "r")[]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r, ri) => {
      const line = r.map((cell, i) => (align[i] === "l" ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
      return ri === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}

export function render(results: {
  machine: Record<string, unknown>;
  ceiling?: Ceiling;
  phases: PhaseResult[];
  targets: Target[];
  seeding: Array<{ accounts: number; seconds: number }>;
}): string {
  const out: string[] = [];
  const m = results.machine;
  out.push(
    `Machine: ${m.cpu} x${m.cores}, ${m.memoryGb} GB, Node ${m.node}, Next ${m.next}; build ${m.buildId}; server ${m.serverNodeOptions || "(no heap cap)"} (as npm start), idle RSS ${Number(m.serverIdleRssMb).toFixed(0)} MB` +
      (Object.keys(m.serverEnv as object).length
        ? `; server env ${Object.entries(m.serverEnv as object)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ")}`
        : "") +
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
  const header = [
    "phase",
    "accounts",
    "c",
    "n",
    "rate/s",
    "step",
    "p50",
    "p95",
    "p99",
    "max",
    "err",
    "srv ms/item main+rest",
    "cpu srv/redis/bench/other",
    "rss max",
  ];
  const rows: string[][] = [header];
  for (const p of results.phases) {
    const steps =
      p.kind === "flow" ? ["register", "inbox", "verify", "login", "flow"] : p.kind === "soak" ? SOAK_STEPS.filter((s) => p.steps[s]) : [mainStep(p.kind)];
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
        i === 0
          ? [p.serverCpuSeconds, p.redisCpuSeconds, p.benchCpuSeconds, p.otherCpuSeconds].map((v) => `${((v / p.seconds) * 100).toFixed(0)}%`).join("/")
          : "",
        i === 0 && p.rssMaxMb ? `${p.rssMaxMb.toFixed(0)} MB` : "",
      ]);
    });
  }
  out.push(table(rows, ["l", "r", "r", "r", "r", "l", "r", "r", "r", "r", "r", "r", "r", "r"]));
  const noisy = results.phases.filter((p) => p.otherCpuSeconds / p.seconds > 0.15);
  if (noisy.length) {
    const which = noisy.length > 4 ? `${noisy.length} of ${results.phases.length} phases` : noisy.map((p) => p.name).join(", ");
    out.push(
      `NOTE: other processes used over 15% of a core during ${which} (last cpu figure): those timings are pessimistic; re-run on a quiet machine (--wait-quiet).`,
    );
  }
  if (results.phases.some((p) => p.kind === "soak")) {
    out.push(
      "(soak: open-loop at a steady rate, c = the most requests in flight at once; times from when each request was due, inbox from its register's; all = every request, inbox not included; wrong_code and replay answered 400/410 as expected)",
    );
  }
  out.push(
    "(times in ms; inbox = register start -> message at the sink; srv ms/item = server CPU per flow or request: main thread + other threads (Argon2 pool, GC, libsql); cpu = share of one core used by the server (incl. its hashing threads) / redis / the bench process (load + SMTP sink) / everything else on the machine)",
  );
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
  out.push(
    table(
      [
        ["target", "limit", "measured", "met"],
        ...results.targets.map((t) => [t.name, t.limit, t.measured, t.met === null ? "n/a" : t.met ? "met" : "NOT MET"]),
      ],
      ["l", "l", "r", "l"],
    ),
  );
  return out.join("\n");
}

export function renderCold(c: ColdStart): string {
  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : "-");
  const lines = [
    `Cold start: spawn to first answer, median of ${c.spawns.product.length} starts, ${fmt(c.productFirstAnswerMs)} ms vs bare Next app ${fmt(c.floorFirstAnswerMs)} ms (${c.spawns.floor.length} starts) -> ${ratio(c.productFirstAnswerMs, c.floorFirstAnswerMs)} (target < 1.5x)`,
    `  each start, product: ${c.spawns.product.map(fmt).join(", ")} ms; floor: ${c.spawns.floor.map(fmt).join(", ")} ms`,
  ];
  for (const step of ["register", "verify", "login"]) {
    const warm = c.warm[step]?.p50 ?? NaN;
    lines.push(
      `  first ${step} after start ${fmt(c.first[step] ?? NaN)} ms vs warm p50 ${fmt(warm)} ms (n=${c.warmCount}) -> ${ratio(c.first[step] ?? NaN, warm)}${step === "register" ? " (target <= 3x)" : ""}`,
    );
  }
  const warmRegister = c.warm.register?.p50 ?? NaN;
  lines.push(
    `  first register ${c.pauseMs / 1000} s after the first page (another fresh server) ${fmt(c.registerAfterPause)} ms vs warm p50 ${fmt(warmRegister)} ms -> ${ratio(c.registerAfterPause, warmRegister)} (target <= 3x)`,
  );
  return lines.join("\n");
}

export function renderSoak(s: SoakResult): string {
  const lines = [
    `Soak: ${s.minutes} min at ${s.targetRate} requests/s open-loop (${s.rate.toFixed(1)}/s made): ${s.requests} requests, ${s.refused} expected refusals (400/410), ${s.retried} resent after a kept-alive connection closed, ` +
      `${s.errors} errors${
        s.errors
          ? ` (${Object.entries(s.errorsByStatus)
              .map(([k, v]) => `${k}: ${v}`)
              .join(", ")}; first: ${s.errorSamples[0]})`
          : ""
      }; ` +
      `at most ${s.maxInFlight} in flight, schedule at most ${fmt(s.maxScheduleLagMs)} ms late`,
    `  server RSS ${fmt(s.rssStartMb)} MB at the start, ${fmt(s.rssAfterWarmupMb)} after the ${fmt(s.warmupSeconds)} s warm-up, ${fmt(s.rssEndMb)} at the end (max ${fmt(s.rssMaxMb)}; ` +
      `${s.rssSamples.length} samples); slope after the warm-up ${fmt(s.rssSlopeMbPerMin)} MB/min, over the second half ${fmt(s.rssSecondHalfSlopeMbPerMin)} MB/min; p95 last window / first after the warm-up ${fmt(s.p95DriftRatio)}x`,
    "",
  ];
  const rows = [["window", "requests", "err", "p50", "p95", "p99", "max", "register p95", "inbox p95", "login p95", "verify p95", "page p95"]];
  for (const w of s.windows) {
    rows.push([
      `${w.from}-${w.to} s${w.afterWarmup ? "" : " (warm-up)"}`,
      String(w.requests),
      String(w.errors),
      fmt(w.all?.p50),
      fmt(w.all?.p95),
      fmt(w.all?.p99),
      fmt(w.all?.max),
      fmt(w.byStep.register?.p95),
      fmt(w.inbox?.p95),
      ...["login", "verify", "page"].map((step) => fmt(w.byStep[step]?.p95)),
    ]);
  }
  lines.push(table(rows, ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"]));
  return lines.join("\n");
}
