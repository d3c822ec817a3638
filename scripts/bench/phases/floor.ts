import { join } from "node:path";
import { startApp } from "../../../testing/services/app-server";
import { RESULTS_DIR } from "../environment";
import { FLOOR_PASSWORD, FLOOR_PATHS } from "../floor";
import { endpoint, expectStatus, pageRequest, request, runPool, type Reply } from "../load";
import { buildFloorApp, cleanups, findServerPid } from "../processes";
import { Recorder } from "../stats";
import { current, mainStep, measured, type PhaseResult } from "./measure";

/**
 * The framework floor: the minimal app of scripts/bench/floor.ts, built and served beside the product's server (idle
 * meanwhile), under the same load generator. Its phases take the product server's place in the CPU accounting.
 */
export async function floorPhases(c: number, n: number, warmup: number, env: Record<string, string | undefined>): Promise<PhaseResult[]> {
  const dir = buildFloorApp();
  const app = await startApp({ root: dir, env, logFile: join(RESULTS_DIR, "floor-server.log"), readyPath: FLOOR_PATHS.staticPage });
  cleanups.push(() => app.stop());
  const product = { server: current.server, baseUrl: endpoint.baseUrl };
  current.server = { pid: app.pid, serverPid: findServerPid(app.pid), port: app.port, log: app.logFile, stop: app.stop };
  endpoint.baseUrl = app.url;
  try {
    // A fresh server: warmed at least as long as the product's, which has served every earlier phase.
    const phase = async (name: string, kind: "floor_api" | "floor_page", send: () => Promise<Reply>, count: number, warm = Math.max(warmup, 1_000)) => {
      const step = mainStep(kind);
      const one = (rec: Recorder) => async () => void (await expectStatus(rec, step, send(), 200));
      await runPool(`${name} warm-up`, warm, c, one(new Recorder()));
      const rec = new Recorder();
      return measured({ name, kind, accounts: 0, concurrency: c, count, warmup: warm }, rec, () => runPool(name, count, c, one(rec)));
    };
    // Half as many as the other floor phases, each costing an Argon2id verify (the product's logins are warmed by 150).
    const argon2Count = Math.round(n / 2);
    return [
      await phase(`floor: no-op JSON POST c=${c}`, "floor_api", () => request("POST", FLOOR_PATHS.api, { email: "floor@bench.test", otp: "123456" }), n),
      await phase(
        `floor: Argon2id verify JSON POST c=${c}`,
        "floor_api",
        () => request("POST", FLOOR_PATHS.argon2, { email: "floor@bench.test", password: FLOOR_PASSWORD }),
        argon2Count,
        150,
      ),
      await phase(`floor: nonce page c=${c}`, "floor_page", () => pageRequest(FLOOR_PATHS.dynamicPage), n),
      await phase(`floor: static page c=${c}`, "floor_page", () => pageRequest(FLOOR_PATHS.staticPage), n),
    ];
  } finally {
    await app.stop();
    current.server = product.server;
    endpoint.baseUrl = product.baseUrl;
  }
}
