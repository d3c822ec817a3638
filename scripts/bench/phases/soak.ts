/**
 * The soak: minutes of mixed traffic at a steady rate, open-loop (each action starts at its scheduled time,
 * whether or not the ones before it have answered), so a server that slows down shows as latency instead of
 * as a lower rate. Judged by errors, by whether latency stays flat from window to window, and by whether the
 * server's resident memory stops growing after the warm-up (a least-squares slope).
 *
 * The mix repeats every ten actions (thirteen requests): two signups (register, code from the sink, verify; one
 * of them types a wrong code first), three logins of verified accounts, the three auth pages, a wrong code for an
 * address without one, and a code submitted again after it was used. A wrong code's 400 and a used code's 400 or
 * 410 are the answers expected, not errors; an unexpected status, a mail missing after 30 s or a failed request is.
 */
import { performance } from "node:perf_hooks";
import { extractCode } from "../../../testing/mailbox";
import { pageRequest, request, type Reply } from "../load";
import { rssMb } from "../processes";
import { progress, progressDone, sleep } from "../progress";
import { fmt, Recorder, stats, type Stats } from "../stats";
import { database, freshEmail, NAME, PASSWORD, registrationOf, verifiedEmails } from "./accounts";
import { current, measured, type PhaseResult } from "./measure";
import { AUTH_PAGES } from "./product";

type Action = "signup" | "signup_typo" | "login" | "page" | "wrong_code" | "replay";
/** One cycle of the mix; REQUESTS_PER_CYCLE counts the follow-up requests of the signups too. */
const CYCLE: Action[] = ["signup", "login", "page", "signup_typo", "login", "page", "wrong_code", "login", "page", "replay"];
const REQUESTS_PER_CYCLE = 13;

export interface SoakWindow {
  /** Seconds from the start of the soak (by the time each request was due). */
  from: number;
  to: number;
  afterWarmup: boolean;
  requests: number;
  errors: number;
  all: Stats | null;
  byStep: Record<string, Stats>;
  /** Register due -> its message at the SMTP sink. */
  inbox: Stats | null;
}

export interface SoakResult {
  minutes: number;
  /** Requests a second the schedule aims at (follow-ups included). */
  targetRate: number;
  requests: number;
  /** Requests a second, measured over the scheduled time. */
  rate: number;
  /** Requests of each step, and how many of them were expected refusals (400/410). */
  byStep: Record<string, number>;
  refused: number;
  /** Requests sent again because the kept-alive connection they went out on was closed by the server at that moment. */
  retried: number;
  errors: number;
  /** Errors by kind: "HTTP <status>", "timeout", "network", "inbox". */
  errorsByStatus: Record<string, number>;
  errorSamples: string[];
  /** The most requests in flight at once, and how late the schedule ever started an action. */
  maxInFlight: number;
  maxScheduleLagMs: number;
  warmupSeconds: number;
  windowSeconds: number;
  windows: SoakWindow[];
  /** Last window's p95 over the first window after the warm-up (all requests). */
  p95DriftRatio: number | undefined;
  /** Server VmRSS every RSS_EVERY_MS: [seconds from the start, MB]. */
  rssSamples: Array<[number, number]>;
  rssStartMb: number | undefined;
  rssAfterWarmupMb: number | undefined;
  rssEndMb: number | undefined;
  rssMaxMb: number | undefined;
  /** Least-squares slope of the samples after the warm-up, in MB a minute. */
  rssSlopeMbPerMin: number | undefined;
  /** The same over the second half of the soak: a leak keeps its slope there, a heap still settling loses it. */
  rssSecondHalfSlopeMbPerMin: number | undefined;
}

const RSS_EVERY_MS = 2_000;
/** As long as a request may take (load.ts): a mail later than that is a timeout, and an error. */
const MAIL_TIMEOUT_MS = 30_000;
const EXPECTED: Record<string, number[]> = { register: [201], verify: [200], wrong_code: [400], replay: [400, 410], login: [200], page: [200] };

/** Least-squares slope of y over x. */
export function slope(points: Array<[number, number]>): number | undefined {
  if (points.length < 2) return undefined;
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  return sxx === 0 ? undefined : sxy / sxx;
}

/** A code that differs from `code` in its last digit. */
const wrongCodeFor = (code: string) => code.slice(0, -1) + String((Number(code.slice(-1)) + 1) % 10);

export async function soakPhase(minutes: number, rate: number, loginPool: () => string): Promise<{ phase: PhaseResult; soak: SoakResult }> {
  const durationMs = minutes * 60_000;
  // A minute of warm-up, as asked; a short (--quick) soak keeps two thirds of its time for the judgement.
  const warmupSeconds = Math.min(60, (minutes * 60) / 3);
  const windowSeconds = minutes >= 3 ? 60 : 15;
  const slotMs = (1000 * REQUESTS_PER_CYCLE) / (CYCLE.length * rate);
  const slots = Math.floor(durationMs / slotMs);

  const rec = new Recorder();
  const samples: Array<{ due: number; step: string; ms: number; ok: boolean }> = [];
  const byStep: Record<string, number> = {};
  const errorsByStatus: Record<string, number> = {};
  let refused = 0;
  let retried = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let maxScheduleLagMs = 0;
  const usedCodes: Array<{ email: string; otp: string; registration: string }> = [];
  let page = 0;
  let t0 = 0;

  const fail = (due: number, step: string, kind: string, message: string) => {
    errorsByStatus[kind] = (errorsByStatus[kind] ?? 0) + 1;
    rec.fail(`${step}: ${message}`);
    samples.push({ due: due - t0, step, ms: NaN, ok: false });
  };

  /** One request, due at `due` (performance.now()); its latency counts from then, so a late start counts too. */
  async function send(
    step: string,
    due: number,
    method: "GET" | "POST",
    path: string,
    json?: unknown,
    check?: (r: Reply) => string | undefined,
  ): Promise<Reply | undefined> {
    byStep[step] = (byStep[step] ?? 0) + 1;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const once = () => (step === "page" ? pageRequest(path) : request(method, path, json));
    let reply: Reply;
    try {
      try {
        reply = await once();
      } catch (error) {
        // The open-loop pace leaves connections idle for seconds, so now and then one is reused just as the server
        // closes it; as browsers do, that one is sent again on a new connection (and counted), anything else is an error.
        if (!((error as NodeJS.ErrnoException).code === "ECONNRESET" && (error as { reusedSocket?: boolean }).reusedSocket)) throw error;
        retried += 1;
        reply = await once();
      }
    } catch (error) {
      const message = (error as Error).message;
      fail(due, step, /timed out/.test(message) ? "timeout" : "network", message);
      return undefined;
    } finally {
      inFlight -= 1;
    }
    const ms = performance.now() - due;
    if (!EXPECTED[step]?.includes(reply.status)) {
      fail(due, step, `HTTP ${reply.status}`, `HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
      return undefined;
    }
    const problem = check?.(reply);
    if (problem) {
      fail(due, step, "bad answer", problem);
      return undefined;
    }
    if (reply.status >= 400) refused += 1;
    rec.add(step, ms);
    rec.add("all", ms);
    samples.push({ due: due - t0, step, ms, ok: true });
    return reply;
  }

  async function signup(due: number, typo: boolean) {
    const email = freshEmail("soak");
    const mail = current.inbox.wait(email, MAIL_TIMEOUT_MS);
    mail.catch(() => {});
    const reg = await send("register", due, "POST", "/api/register", { name: NAME, email, password: PASSWORD });
    if (!reg) return;
    let otp: string;
    try {
      const got = await mail;
      rec.add("inbox", got.at - due);
      samples.push({ due: due - t0, step: "inbox", ms: got.at - due, ok: true });
      otp = extractCode(got.mail);
    } catch (error) {
      return fail(due, "inbox", "inbox", (error as Error).message);
    }
    const registration = registrationOf(reg);
    if (typo && !(await send("wrong_code", performance.now(), "POST", "/api/verify-otp", { email, otp: wrongCodeFor(otp), registration }))) return;
    if (!(await send("verify", performance.now(), "POST", "/api/verify-otp", { email, otp, registration }))) return;
    verifiedEmails.push(email);
    database.accounts += 1;
    usedCodes.push({ email, otp, registration });
    if (usedCodes.length > 100) usedCodes.shift();
  }

  function start(action: Action, due: number): Promise<unknown> {
    switch (action) {
      case "signup":
      case "signup_typo":
        return signup(due, action === "signup_typo");
      case "login":
        return send("login", due, "POST", "/api/login", { email: loginPool(), password: PASSWORD }, (r) =>
          String(r.headers["set-cookie"] ?? "").includes("session-token") ? undefined : "no session cookie",
        );
      case "page":
        return send("page", due, "GET", AUTH_PAGES[page++ % AUTH_PAGES.length]!);
      case "replay": {
        const used = usedCodes.shift();
        if (used) return send("replay", due, "POST", "/api/verify-otp", used);
        return send("wrong_code", due, "POST", "/api/verify-otp", { email: freshEmail("nobody"), otp: "000000" });
      }
      case "wrong_code":
        return send("wrong_code", due, "POST", "/api/verify-otp", { email: freshEmail("nobody"), otp: "000000" });
    }
  }

  const rssSamples: Array<[number, number]> = [];
  const name = `soak ${rate}/s x ${minutes} min`;
  // count: the requests the schedule makes (measured() refuses a phase where over half of them failed); set exactly below.
  const planned = Math.round((slots * REQUESTS_PER_CYCLE) / CYCLE.length);
  const phase = await measured({ name, kind: "soak", accounts: database.accounts, concurrency: 0, count: planned, warmup: 0 }, rec, async () => {
    t0 = performance.now();
    const sampleRss = () => {
      const rss = rssMb(current.server.serverPid);
      if (rss !== undefined) rssSamples.push([(performance.now() - t0) / 1000, rss]);
    };
    sampleRss();
    const sampler = setInterval(sampleRss, RSS_EVERY_MS);
    const pending = new Set<Promise<unknown>>();
    try {
      for (let i = 0; i < slots; i++) {
        const due = t0 + i * slotMs;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        maxScheduleLagMs = Math.max(maxScheduleLagMs, performance.now() - due);
        const action = CYCLE[i % CYCLE.length]!;
        const task = start(action, due).catch((error) => fail(due, action, "bad answer", (error as Error).message));
        pending.add(task);
        void task.finally(() => pending.delete(task));
        if (i % 20 === 0) {
          const s = (performance.now() - t0) / 1000;
          progress(
            `  ${name}: ${s.toFixed(0)}/${minutes * 60} s, ${rec.values.get("all")?.length ?? 0} answered, ${rec.errors} errors, ${inFlight} in flight, RSS ${fmt(rssSamples.at(-1)?.[1])} MB`,
          );
        }
      }
      await Promise.all(pending);
      sampleRss();
    } finally {
      clearInterval(sampler);
    }
    return performance.now() - t0;
  });

  const windows: SoakWindow[] = [];
  for (let from = 0; from < minutes * 60; from += windowSeconds) {
    const to = from + windowSeconds;
    const inWindow = samples.filter((s) => s.due >= from * 1000 && s.due < to * 1000);
    const ok = inWindow.filter((s) => s.ok && s.step !== "inbox");
    const steps = new Map<string, number[]>();
    for (const s of ok) {
      if (!steps.has(s.step)) steps.set(s.step, []);
      steps.get(s.step)!.push(s.ms);
    }
    windows.push({
      from,
      to,
      afterWarmup: from >= warmupSeconds,
      requests: inWindow.filter((s) => s.step !== "inbox").length,
      errors: inWindow.filter((s) => !s.ok).length,
      all: stats(ok.map((s) => s.ms)),
      byStep: Object.fromEntries([...steps].map(([k, v]) => [k, stats(v)!])),
      inbox: stats(inWindow.filter((s) => s.ok && s.step === "inbox").map((s) => s.ms)),
    });
  }
  const firstAfter = windows.find((w) => w.afterWarmup)?.all?.p95;
  const last = windows.at(-1)?.all?.p95;
  const afterWarmup = rssSamples.filter(([t]) => t >= warmupSeconds);
  const perSecond = slope(afterWarmup);
  const secondHalf = slope(rssSamples.filter(([t]) => t >= (minutes * 60) / 2));
  const requests = Object.values(byStep).reduce((a, b) => a + b, 0);

  phase.count = requests;
  phase.concurrency = maxInFlight;
  phase.perSecond = (requests - rec.errors) / phase.seconds;
  const soak: SoakResult = {
    minutes,
    targetRate: rate,
    requests,
    rate: requests / ((slots * slotMs) / 1000),
    byStep,
    refused,
    retried,
    errors: rec.errors,
    errorsByStatus,
    errorSamples: rec.errorSamples,
    maxInFlight,
    maxScheduleLagMs,
    warmupSeconds,
    windowSeconds,
    windows,
    p95DriftRatio: firstAfter && last !== undefined ? last / firstAfter : undefined,
    rssSamples: rssSamples.map(([t, mb]) => [Number(t.toFixed(1)), Number(mb.toFixed(1))]),
    rssStartMb: rssSamples[0]?.[1],
    rssAfterWarmupMb: afterWarmup[0]?.[1],
    rssEndMb: rssSamples.at(-1)?.[1],
    rssMaxMb: rssSamples.length ? Math.max(...rssSamples.map(([, mb]) => mb)) : undefined,
    rssSlopeMbPerMin: perSecond === undefined ? undefined : perSecond * 60,
    rssSecondHalfSlopeMbPerMin: secondHalf === undefined ? undefined : secondHalf * 60,
  };
  progressDone(
    `  ${name}: ${requests} requests (${soak.rate.toFixed(1)}/s), ${refused} expected refusals, ${retried} resent on a new connection, ${rec.errors} errors; p95 drift ${fmt(soak.p95DriftRatio)}x; RSS ${fmt(soak.rssAfterWarmupMb)} -> ${fmt(soak.rssEndMb)} MB, slope ${fmt(soak.rssSlopeMbPerMin)} MB/min`,
  );
  return { phase, soak };
}
