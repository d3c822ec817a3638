/**
 * Cold start (`npm run bench`, phase group "cold"): what a platform pays after a deploy or an idle period.
 * A fresh `next start` is timed from spawn to its first answered page load (a browser's navigation), polled every few milliseconds, beside the
 * floor app's (scripts/bench/floor.ts) start in the same run.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import http from "node:http";
import { performance } from "node:perf_hooks";
import { nextBin, stopGroupOnExit } from "../../testing/services/app-server";
import { freePort } from "../../testing/services/free-port";
import { NAVIGATION_HEADERS } from "./load";

export interface ColdServer {
  url: string;
  pid: number;
  /** Spawn to the first 200 answer of `path`, in ms. */
  firstAnswerMs: number;
  stop: () => Promise<void>;
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, headers: NAVIGATION_HEADERS }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode === 200));
    });
    req.on("error", () => resolve(false));
    req.setTimeout(10_000, () => req.destroy());
  });
}

export async function startCold(root: string, env: Record<string, string | undefined>, logFile: string, path: string): Promise<ColdServer> {
  const port = await freePort();
  const log = openSync(logFile, "w");
  const started = performance.now();
  const child = spawn(process.execPath, [nextBin(root), "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: root,
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...env } as NodeJS.ProcessEnv,
  });
  closeSync(log);
  const stop = stopGroupOnExit(child);
  const url = `http://127.0.0.1:${port}`;
  const deadline = started + 60_000;
  while (!(await answers(`${url}${path}`))) {
    if (child.exitCode !== null || performance.now() > deadline) {
      await stop();
      throw new Error(`cold start of ${root}: no 200 from ${path} (see ${logFile})`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return { url, pid: child.pid!, firstAnswerMs: performance.now() - started, stop };
}
