/** The hashing ceiling: Argon2id with the app's parameters, in the bench process, alone and on every core at once. */
import os from "node:os";
import { performance } from "node:perf_hooks";
import { hashPassword, verifyPassword } from "../../../lib/credentials/passwords";
import { progress, progressDone } from "../progress";
import { fmt, stats, type Stats } from "../stats";
import { PASSWORD } from "./accounts";

export interface Argon2Baseline {
  hashMs: Stats;
  verifyMs: Stats;
}

export interface Ceiling {
  params: string;
  hashMs: Stats;
  verifyMs: Stats;
  cores: number;
  /** cores / (hash + verify seconds), with the medians. */
  flowsPerSecond: number;
  formula: string;
  /** Pairs of (hash + verify) per second with `cores` of them running side by side, measured. */
  measuredParallelPairsPerSecond: number;
  /** Verifies per second with `cores` of them running side by side, measured: what logins can reach at most. */
  measuredParallelVerifiesPerSecond: number;
}

/** One Argon2id hash and one verify with the app's parameters, one after the other, `n` times (after 3 unmeasured). */
async function measureArgon2(n: number, label: string): Promise<Argon2Baseline & { sample: string }> {
  const hashes: number[] = [];
  const verifies: number[] = [];
  let sample = "";
  for (let i = 0; i < n + 3; i++) {
    progress(`  ${label}: ${i}/${n + 3}`);
    const t0 = performance.now();
    sample = await hashPassword(`${PASSWORD} ${i}`);
    const t1 = performance.now();
    if (!(await verifyPassword(sample, `${PASSWORD} ${i}`))) throw new Error("verifyPassword rejected its own hash");
    const t2 = performance.now();
    if (i >= 3) {
      hashes.push(t1 - t0);
      verifies.push(t2 - t1);
    }
  }
  return { hashMs: stats(hashes)!, verifyMs: stats(verifies)!, sample };
}

/**
 * The Argon2id cost right before a concurrency-1 phase, which the login and register targets are measured against:
 * this machine's speed drifts by 10-20% over a run, so a figure from the start of the run would not compare like with like.
 * `n` pairs, as many as the ceiling measures (--ceiling-n).
 */
export async function baselineFor(label: string, n: number): Promise<Argon2Baseline> {
  const { hashMs, verifyMs } = await measureArgon2(n, `${label}: Argon2id baseline`);
  return { hashMs, verifyMs };
}

export async function measureCeiling(n: number): Promise<Ceiling> {
  const cores = os.availableParallelism();
  const { hashMs, verifyMs, sample } = await measureArgon2(n, "hashing ceiling");
  // The same work on every core at once, for about 2 s: memory bandwidth may make it worse than the formula.
  let pairs = 0;
  const until = performance.now() + 2_000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: cores }, async () => {
      while (performance.now() < until) {
        const h = await hashPassword(PASSWORD);
        await verifyPassword(h, PASSWORD);
        pairs += 1;
      }
    }),
  );
  const pairsPerSecond = pairs / ((performance.now() - started) / 1000);
  const verifiesPerSecond = await sideBySide(cores, () => verifyPassword(sample, `${PASSWORD} ${n + 2}`));
  const flowsPerSecond = cores / ((hashMs.p50 + verifyMs.p50) / 1000);
  const params = /^\$argon2id\$v=\d+\$([^$]+)\$/.exec(sample)?.[1] ?? "?";
  progressDone(`  hashing: hash p50 ${fmt(hashMs.p50)} ms, verify p50 ${fmt(verifyMs.p50)} ms (${params}); ceiling ${flowsPerSecond.toFixed(1)} flows/s`);
  return {
    params: `argon2id ${params}`,
    hashMs,
    verifyMs,
    cores,
    flowsPerSecond,
    formula: `${cores} cores / (hash p50 ${fmt(hashMs.p50)} ms + verify p50 ${fmt(verifyMs.p50)} ms)`,
    measuredParallelPairsPerSecond: pairsPerSecond,
    measuredParallelVerifiesPerSecond: verifiesPerSecond,
  };
}

/** `task` on every core at once for about 2 s: completed tasks per second. */
async function sideBySide(cores: number, task: () => Promise<unknown>): Promise<number> {
  let done = 0;
  const started = performance.now();
  const until = started + 2_000;
  await Promise.all(
    Array.from({ length: cores }, async () => {
      while (performance.now() < until) {
        await task();
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}
