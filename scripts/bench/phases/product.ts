/** The product's phases against its JSON API and pages: whole flows, verify, login and the auth pages. */
import { performance } from "node:perf_hooks";
import { extractCode } from "../../../testing/mailbox";
import { expectStatus, pageRequest, request, runPool } from "../load";
import { Recorder } from "../stats";
import { database, freshEmail, NAME, PASSWORD, registrationOf, verifiedEmails } from "./accounts";
import { baselineFor } from "./ceiling";
import { current, measured, type PhaseResult } from "./measure";

/** register -> code at the sink -> verify -> login, one account. */
export async function oneFlow(rec: Recorder) {
  const email = freshEmail("flow");
  const started = performance.now();
  const mail = current.inbox.wait(email);
  mail.catch(() => {});
  const reg = await expectStatus(rec, "register", request("POST", "/api/register", { name: NAME, email, password: PASSWORD }), 201);
  if (!reg) return;
  let code: string;
  try {
    const got = await mail;
    rec.add("inbox", got.at - started);
    code = extractCode(got.mail);
  } catch (error) {
    return rec.fail(`inbox: ${(error as Error).message}`);
  }
  const registration = registrationOf(reg);
  if (!(await expectStatus(rec, "verify", request("POST", "/api/verify-otp", { email, otp: code, registration }), 200))) return;
  const login = await expectStatus(rec, "login", request("POST", "/api/login", { email, password: PASSWORD }), 200, (r) =>
    String(r.headers["set-cookie"] ?? "").includes("session-token") ? undefined : "no session cookie",
  );
  if (!login) return;
  rec.add("flow", performance.now() - started);
  verifiedEmails.push(email);
}

/** `baselineN`: Argon2id pairs measured before a concurrency-1 phase (--ceiling-n). */
export async function flowPhase(c: number, n: number, warmup: number, baselineN: number): Promise<PhaseResult> {
  await runPool(`flow c=${c} warm-up`, warmup, c, () => oneFlow(new Recorder()));
  database.accounts += warmup;
  const argon2Baseline = c === 1 ? await baselineFor(`flow c=${c}`, baselineN) : undefined;
  const rec = new Recorder();
  const result = await measured({ name: `flow c=${c}`, kind: "flow", accounts: database.accounts, concurrency: c, count: n, warmup, argon2Baseline }, rec, () =>
    runPool(`flow c=${c}`, n, c, () => oneFlow(rec)),
  );
  database.accounts += n;
  return result;
}

/** Registers fresh addresses (concurrency 8) and collects their codes. */
async function issueCodes(count: number, label: string): Promise<Array<{ email: string; code: string; registration: string }>> {
  const out: Array<{ email: string; code: string; registration: string }> = [];
  const rec = new Recorder();
  await runPool(label, count, 8, async () => {
    const email = freshEmail("code");
    const mail = current.inbox.wait(email);
    mail.catch(() => {});
    const reg = await expectStatus(rec, "register", request("POST", "/api/register", { name: NAME, email, password: PASSWORD }), 201);
    if (!reg) return;
    try {
      out.push({ email, code: extractCode((await mail).mail), registration: registrationOf(reg) });
    } catch (error) {
      rec.fail((error as Error).message);
    }
  });
  database.accounts += count;
  if (rec.errors) throw new Error(`issuing codes failed ${rec.errors} times: ${rec.errorSamples.join("; ")}`);
  return out;
}

export async function verifyPhase(c: number, n: number, warmup: number, tag = ""): Promise<PhaseResult> {
  const codes = await issueCodes(warmup + n, `verify${tag} c=${c}: issuing ${warmup + n} codes (register)`);
  const verifyOne = (rec: Recorder, list: typeof codes) => async (i: number) => {
    const { email, code, registration } = list[i]!;
    if (await expectStatus(rec, "verify", request("POST", "/api/verify-otp", { email, otp: code, registration }), 200)) verifiedEmails.push(email);
  };
  const warm = codes.splice(0, warmup);
  const warmRec = new Recorder();
  await runPool(`verify${tag} c=${c} warm-up`, warm.length, c, verifyOne(warmRec, warm));
  const rec = new Recorder();
  return measured({ name: `verify${tag} c=${c}`, kind: "verify", accounts: database.accounts, concurrency: c, count: n, warmup }, rec, () =>
    runPool(`verify${tag} c=${c}`, codes.length, c, verifyOne(rec, codes)),
  );
}

/** Wrong codes for addresses with no code: the cheap path (one Redis call, no database). */
export async function verifyWrongPhase(c: number, n: number, warmup: number): Promise<PhaseResult> {
  const one = (rec: Recorder) => async () => {
    await expectStatus(rec, "verify", request("POST", "/api/verify-otp", { email: freshEmail("nobody"), otp: "000000" }), 400);
  };
  await runPool(`verify (wrong code) c=${c} warm-up`, warmup, c, one(new Recorder()));
  const rec = new Recorder();
  return measured({ name: `verify wrong code c=${c}`, kind: "verify_wrong", accounts: database.accounts, concurrency: c, count: n, warmup }, rec, () =>
    runPool(`verify (wrong code) c=${c}`, n, c, one(rec)),
  );
}

/** `baselineN`: Argon2id pairs measured before a concurrency-1 phase (--ceiling-n). */
export async function loginPhase(c: number, n: number, warmup: number, baselineN: number, pool: () => string, tag = ""): Promise<PhaseResult> {
  const one = (rec: Recorder) => async () => {
    await expectStatus(rec, "login", request("POST", "/api/login", { email: pool(), password: PASSWORD }), 200, (r) =>
      String(r.headers["set-cookie"] ?? "").includes("session-token") ? undefined : "no session cookie",
    );
  };
  await runPool(`login${tag} c=${c} warm-up`, warmup, c, one(new Recorder()));
  const argon2Baseline = c === 1 ? await baselineFor(`login${tag} c=${c}`, baselineN) : undefined;
  const rec = new Recorder();
  return measured({ name: `login${tag} c=${c}`, kind: "login", accounts: database.accounts, concurrency: c, count: n, warmup, argon2Baseline }, rec, () =>
    runPool(`login${tag} c=${c}`, n, c, one(rec)),
  );
}

/** The auth pages served as the build's HTML (lib/web/static-pages.ts): each is measured against the floor's prerendered page. */
export const AUTH_PAGES = ["/register", "/login", "/forgot-password"] as const;

export async function pagePhase(c: number, n: number, warmup: number, path: string = "/register"): Promise<PhaseResult> {
  const one = (rec: Recorder) => async () => {
    await expectStatus(rec, "page", pageRequest(path), 200);
  };
  await runPool(`GET ${path} c=${c} warm-up`, warmup, c, one(new Recorder()));
  const rec = new Recorder();
  return measured({ name: `GET ${path} c=${c}`, kind: "page", accounts: database.accounts, concurrency: c, count: n, warmup }, rec, () =>
    runPool(`GET ${path} c=${c}`, n, c, one(rec)),
  );
}
