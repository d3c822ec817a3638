import type { Inbox } from "../inbox";
import { cpuSeconds, machineCpuSeconds, mainThreadCpuSeconds, rssMb, type Server } from "../processes";
import { progressDone } from "../progress";
import { fmt, type Recorder, type Stats } from "../stats";
import type { Argon2Baseline } from "./ceiling";

export interface PhaseResult {
  name: string;
  kind: "flow" | "verify" | "verify_wrong" | "login" | "page" | "floor_api" | "floor_page" | "soak";
  accounts: number;
  concurrency: number;
  count: number;
  warmup: number;
  seconds: number;
  perSecond: number;
  errors: number;
  errorSamples: string[];
  steps: Record<string, Stats>;
  serverCpuSeconds: number;
  /** Of serverCpuSeconds, what the main thread used (JavaScript, I/O callbacks); the rest is Argon2 on the pool, GC helpers, libsql. */
  serverMainThreadCpuSeconds: number;
  benchCpuSeconds: number;
  redisCpuSeconds: number;
  /** CPU used by everything else on the machine (other people's jobs, the OS) during the phase: noise. */
  otherCpuSeconds: number;
  /** VmRSS of the serving process, sampled every 100 ms during the measured part. */
  rssMaxMb: number;
  rssSamples: number;
  /** process.hrtime in µs (the clock V8's profiler uses) around the measured part. */
  windowUs: [number, number];
  /** Concurrency-1 phases: Argon2id measured in the bench process right before the phase (the targets' reference). */
  argon2Baseline?: Argon2Baseline;
}

/**
 * The run's moving parts, set by main: the server the phases measure (the floor phases put the floor app's in its
 * place meanwhile), the Redis beside it, and the SMTP sink's inbox.
 */
export const current = {} as { server: Server; redisPid: number | undefined; inbox: Inbox };

const hrUs = () => Number(process.hrtime.bigint() / 1000n);

export async function measured(
  base: Omit<
    PhaseResult,
    | "seconds"
    | "perSecond"
    | "errors"
    | "errorSamples"
    | "steps"
    | "serverCpuSeconds"
    | "serverMainThreadCpuSeconds"
    | "benchCpuSeconds"
    | "redisCpuSeconds"
    | "otherCpuSeconds"
    | "windowUs"
    | "rssMaxMb"
    | "rssSamples"
  >,
  rec: Recorder,
  run: () => Promise<number>,
): Promise<PhaseResult> {
  const { server, redisPid } = current;
  const cpu0 = cpuSeconds(server.serverPid);
  const main0 = mainThreadCpuSeconds(server.serverPid);
  const redis0 = redisPid ? cpuSeconds(redisPid) : NaN;
  const machine0 = machineCpuSeconds();
  const bench0 = process.cpuUsage();
  let rssMax = 0;
  let rssSamples = 0;
  const sampler = setInterval(() => {
    const rss = rssMb(server.serverPid);
    if (rss !== undefined) {
      rssMax = Math.max(rssMax, rss);
      rssSamples += 1;
    }
  }, 100);
  const t0 = hrUs();
  const ms = await run();
  const t1 = hrUs();
  clearInterval(sampler);
  const benchCpu = process.cpuUsage(bench0);
  const serverCpu = cpuSeconds(server.serverPid) - cpu0;
  const redisCpu = redisPid ? cpuSeconds(redisPid) - redis0 : 0;
  const benchCpuSeconds = (benchCpu.user + benchCpu.system) / 1e6;
  const result: PhaseResult = {
    ...base,
    seconds: ms / 1000,
    perSecond: (base.count - rec.errors) / (ms / 1000), // completed items only
    errors: rec.errors,
    errorSamples: rec.errorSamples,
    steps: rec.summary(),
    serverCpuSeconds: serverCpu,
    serverMainThreadCpuSeconds: mainThreadCpuSeconds(server.serverPid) - main0,
    benchCpuSeconds,
    redisCpuSeconds: redisCpu,
    otherCpuSeconds: Math.max(0, machineCpuSeconds() - machine0 - serverCpu - redisCpu - benchCpuSeconds),
    windowUs: [t0, t1],
    rssMaxMb: rssMax,
    rssSamples,
  };
  const main = result.steps[mainStep(result.kind)];
  if (result.errors > result.count / 2) {
    throw new Error(`${result.name}: ${result.errors} of ${result.count} failed (${result.errorSamples.join("; ")}); see ${server.log}`);
  }
  progressDone(
    `  ${result.name.padEnd(26)} ${result.perSecond.toFixed(1).padStart(7)}/s  ` +
      (main ? `p50 ${fmt(main.p50)}  p95 ${fmt(main.p95)} ms` : "") +
      (result.errors ? `  ${result.errors} ERRORS: ${result.errorSamples[0]}` : ""),
  );
  return result;
}

export function mainStep(kind: PhaseResult["kind"]): string {
  return kind === "flow"
    ? "flow"
    : kind === "verify_wrong"
      ? "verify"
      : kind === "floor_api"
        ? "request"
        : kind === "floor_page"
          ? "page"
          : kind === "soak"
            ? "all"
            : kind;
}
