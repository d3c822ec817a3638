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
  productFirstAnswerMs: number;
  floorFirstAnswerMs: number;
  /** The first register, verify and login after start, and the same requests warm (p50 of `warmCount`). */
  first: Record<string, number>;
  warm: Record<string, Stats>;
  warmCount: number;
}

/**
 * Cold start: a second product server from the same build and environment (the main one idles meanwhile), timed
 * from spawn to its first answer (GET /register), then its first register, verify and login, then the same flow
 * warm; and the floor app's spawn to first answer (GET /static) right after.
 */
export async function coldPhase(appRoot: string, env: Record<string, string | undefined>, warmCount: number): Promise<ColdStart> {
  const floorDir = buildFloorApp();
  progress("  cold: starting a fresh server");
  const cold = await startCold(appRoot, env, join(RESULTS_DIR, "cold-server.log"), "/register");
  cleanups.push(() => cold.stop());
  const product = endpoint.baseUrl;
  endpoint.baseUrl = cold.url;
  const first = new Recorder();
  const warm = new Recorder();
  try {
    await oneFlow(first);
    for (let i = 0; i < warmCount; i++) await oneFlow(warm);
  } finally {
    endpoint.baseUrl = product;
    await cold.stop();
  }
  if (first.errors || warm.errors) throw new Error(`cold: ${[...first.errorSamples, ...warm.errorSamples].join("; ")}`);
  const floor = await startCold(floorDir, { NODE_ENV: "production" }, join(RESULTS_DIR, "cold-floor.log"), FLOOR_PATHS.staticPage);
  await floor.stop();
  const firstSteps = Object.fromEntries(["register", "verify", "login"].map((step) => [step, first.values.get(step)?.[0] ?? NaN]));
  const warmSteps = Object.fromEntries(["register", "verify", "login"].map((step) => [step, stats(warm.values.get(step) ?? [])!]));
  progressDone(`  cold: first answer ${fmt(cold.firstAnswerMs)} ms (floor ${fmt(floor.firstAnswerMs)} ms)`);
  return { productFirstAnswerMs: cold.firstAnswerMs, floorFirstAnswerMs: floor.firstAnswerMs, first: firstSteps, warm: warmSteps, warmCount };
}
