import { join } from "node:path";
import { startCold } from "../cold";
import { RESULTS_DIR } from "../environment";
import { FLOOR_PATHS } from "../floor";
import { endpoint } from "../load";
import { buildFloorApp, cleanups } from "../processes";
import { progress, progressDone } from "../progress";
import { fmt, Recorder, stats, type Stats } from "../stats";
import { oneFlow } from "./product";

export interface ColdStart {
  /** Medians over `spawns` starts of each, product and floor taking turns (one start is as noisy as the machine). */
  productFirstAnswerMs: number;
  floorFirstAnswerMs: number;
  spawns: { product: number[]; floor: number[] };
  /** The first register, verify and login after start, and the same requests warm (p50 of `warmCount`). */
  first: Record<string, number>;
  warm: Record<string, Stats>;
  warmCount: number;
  /** Another fresh server: its first register FORM_FILLING_MS after its first page, as a person posts the form. */
  registerAfterPause: number;
  pauseMs: number;
}

/** How long a person takes to fill in the signup form, at the quickest (a password manager filling it). */
export const FORM_FILLING_MS = 2_000;

/**
 * Cold start: a second product server from the same build and environment (the main one idles meanwhile), timed
 * from spawn to its first answer (GET /register), then its first register, verify and login, then the same flow
 * warm; then another fresh server whose first register comes a form-filling pause after its first page; then the floor
 * app's spawn to first answer (GET /static) and the product's, taking turns until each has `spawnCount` starts.
 */
export async function coldPhase(appRoot: string, env: Record<string, string | undefined>, warmCount: number, spawnCount: number): Promise<ColdStart> {
  const floorDir = buildFloorApp();
  progress("  cold: starting a fresh server");
  const first = new Recorder();
  const warm = new Recorder();
  const cold = await onFreshServer(appRoot, env, "cold-server.log", async () => {
    await oneFlow(first);
    for (let i = 0; i < warmCount; i++) await oneFlow(warm);
  });
  const afterPause = new Recorder();
  await onFreshServer(appRoot, env, "cold-server-2.log", async () => {
    await new Promise((resolve) => setTimeout(resolve, FORM_FILLING_MS));
    await oneFlow(afterPause);
  });
  const errors = [first, warm, afterPause].flatMap((rec) => (rec.errors ? rec.errorSamples : []));
  if (errors.length) throw new Error(`cold: ${errors.join("; ")}`);
  const spawns = { product: [cold.firstAnswerMs], floor: [] as number[] };
  for (let i = 0; i < spawnCount; i++) {
    const floor = await startCold(floorDir, { NODE_ENV: "production" }, join(RESULTS_DIR, "cold-floor.log"), FLOOR_PATHS.staticPage);
    await floor.stop();
    spawns.floor.push(floor.firstAnswerMs);
    if (spawns.product.length >= spawnCount) break;
    const product = await startCold(appRoot, env, join(RESULTS_DIR, "cold-server-3.log"), "/register");
    await product.stop();
    spawns.product.push(product.firstAnswerMs);
  }
  const productFirstAnswerMs = stats(spawns.product)!.p50;
  const floorFirstAnswerMs = stats(spawns.floor)!.p50;
  const firstSteps = Object.fromEntries(["register", "verify", "login"].map((step) => [step, first.values.get(step)?.[0] ?? NaN]));
  const warmSteps = Object.fromEntries(["register", "verify", "login"].map((step) => [step, stats(warm.values.get(step) ?? [])!]));
  progressDone(`  cold: first answer median ${fmt(productFirstAnswerMs)} ms (floor ${fmt(floorFirstAnswerMs)} ms) over ${spawnCount} starts each`);
  return {
    productFirstAnswerMs,
    floorFirstAnswerMs,
    spawns,
    first: firstSteps,
    warm: warmSteps,
    warmCount,
    registerAfterPause: afterPause.values.get("register")?.[0] ?? NaN,
    pauseMs: FORM_FILLING_MS,
  };
}

/** Starts a fresh product server, points the load at it while `run` runs, then stops it. */
async function onFreshServer(appRoot: string, env: Record<string, string | undefined>, logName: string, run: () => Promise<void>) {
  const server = await startCold(appRoot, env, join(RESULTS_DIR, logName), "/register");
  cleanups.push(() => server.stop());
  const product = endpoint.baseUrl;
  endpoint.baseUrl = server.url;
  try {
    await run();
  } finally {
    endpoint.baseUrl = product;
    await server.stop();
  }
  return server;
}
