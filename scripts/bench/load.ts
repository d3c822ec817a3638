/** The load generator: a keep-alive HTTP client for the server under test and a pool of concurrent workers. */
import http from "node:http";
import { performance } from "node:perf_hooks";
import { progress } from "./progress";
import type { Recorder } from "./stats";

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
/** Where requests go: the product's server, or the floor app's or a cold server's while their phases run. */
export const endpoint = { baseUrl: "" };

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** What a browser sends when it loads a page (the product answers a navigation to a prerendered page itself). */
export const NAVIGATION_HEADERS: http.OutgoingHttpHeaders = {
  accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "sec-fetch-dest": "document",
  "sec-fetch-mode": "navigate",
};

export function request(method: "GET" | "POST", path: string, json?: unknown): Promise<Reply> {
  return send(method, path, json, {});
}

/** A GET as a browser loads a page. */
export function pageRequest(path: string): Promise<Reply> {
  return send("GET", path, undefined, NAVIGATION_HEADERS);
}

function send(method: "GET" | "POST", path: string, json: unknown, extraHeaders: http.OutgoingHttpHeaders): Promise<Reply> {
  const payload = json === undefined ? undefined : JSON.stringify(json);
  const url = new URL(path, endpoint.baseUrl);
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const req = http.request(
      {
        agent,
        method,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        headers: payload === undefined ? extraHeaders : { ...extraHeaders, "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - started }),
        );
        res.on("error", reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path} timed out after 30 s`)));
    // Whether the request went out on a kept-alive connection: one the server closed at that moment fails with
    // ECONNRESET before the server read anything (Node's http.ClientRequest.reusedSocket), which a caller may retry.
    req.on("error", (error) => reject(Object.assign(error, { reusedSocket: req.reusedSocket })));
    req.end(payload);
  });
}

export async function expectStatus(
  rec: Recorder,
  step: string,
  reply: Promise<Reply>,
  status: number,
  check?: (r: Reply) => string | undefined,
): Promise<Reply | undefined> {
  let r: Reply;
  try {
    r = await reply;
  } catch (error) {
    rec.fail(`${step}: ${(error as Error).message}`);
    return undefined;
  }
  const problem = r.status !== status ? `HTTP ${r.status} ${r.body.slice(0, 200)}` : check?.(r);
  if (problem) {
    rec.fail(`${step}: ${problem}`);
    return undefined;
  }
  rec.add(step, r.ms);
  return r;
}

/** Runs task(0..total-1) with `concurrency` workers; returns the wall time in ms. */
export async function runPool(label: string, total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  let done = 0;
  const started = performance.now();
  const timer = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    progress(`  ${label}: ${done}/${total}  ${(done / s).toFixed(1)}/s  ${s.toFixed(1)} s`);
  }, 250);
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, total) }, async () => {
        while (next < total) {
          const i = next++;
          await task(i);
          done += 1;
        }
      }),
    );
  } finally {
    clearInterval(timer);
  }
  return performance.now() - started;
}
