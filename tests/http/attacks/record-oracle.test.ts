import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { TestStack } from "@/testing/services/app-server";
import { extractCode } from "@/testing/mailbox";
import { clientAddresses, httpClient, registerAndVerify, withTestStack, type Reply } from "@/testing/http-client";
import { uniqueEmail } from "@/testing/people";

/**
 * The record oracle, replayed against the production build: an attacker asks for a code for an address
 * (a reset, a sign-in code, an email change) and then enters wrong codes. Where a record exists the fifth
 * wrong code voided it (410 too_many_attempts); where none existed every answer stayed 400 wrong_code,
 * which told whether the address has an account. The answers must be the same either way.
 */

const AUTH_SECRET = randomBytes(32).toString("base64");
const PASSWORD = "velvet hammock orbit lantern 42";
const NEW_PASSWORD = "quiet orchard bicycle meadow 77";
const WRONG_TRIES = 7;

let stack: TestStack;
withTestStack(
  { root: process.cwd(), snapshotPrefix: "attack-record-oracle-", readyPath: "/login", authSecret: AUTH_SECRET, env: { SIGN_IN_BY_CODE: "true" } },
  (started) => {
    stack = started;
  },
);

const { post } = httpClient(() => stack.app.url, clientAddresses());
const outcome = (r: Reply) => `${r.status} ${r.json?.error?.code ?? "ok"}`;

/** A code that is surely not `code` (when we know the mailed one), else any. */
const wrongFor = (code?: string) => (code ? String((Number(code) + 1) % 1_000_000).padStart(6, "0") : "000000");

async function account(label: string): Promise<{ email: string; cookie: string }> {
  const email = uniqueEmail(label);
  await registerAndVerify(post, stack.sink, { email, password: PASSWORD });
  const login = await post("/api/login", { email, password: PASSWORD });
  expect(login.status, login.text).toBe(200);
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .filter((c) => /session-token/.test(c))
    .join("; ");
  return { email, cookie };
}

/** The mailed code, if one arrives for `to` with `subject` (a decoy sends none). */
async function mailedCode(to: string, since: number, subject: RegExp): Promise<string> {
  return extractCode(await stack.sink.waitForMail(to, { after: since - 1, predicate: (m) => subject.test(m.subject) }));
}

async function wrongTries(send: (otp: string) => Promise<Reply>, code?: string): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < WRONG_TRIES; i++) seen.push(outcome(await send(wrongFor(code))));
  return seen;
}

describe("wrong codes answer alike whether or not a record exists", () => {
  it("reset: after a request, 7 wrong codes give the same answers for an address with an account and one without", async () => {
    const known = (await account("reset-known")).email;
    const unknown = uniqueEmail("reset-unknown");
    const results: string[][] = [];
    for (const email of [known, unknown]) {
      const since = Date.now();
      const asked = await post("/api/password-reset", { email });
      expect(asked.status, asked.text).toBe(200);
      const code = email === known ? await mailedCode(email, since, /password reset code/i) : undefined;
      results.push(await wrongTries((otp) => post("/api/password-reset/confirm", { email, otp, password: NEW_PASSWORD }), code));
    }
    expect(results[0]).toContain("410 too_many_attempts");
    expect(results[1]).toEqual(results[0]);
  });

  it("sign-in by code: after a request, 7 wrong codes give the same answers for a customer and an address without an account", async () => {
    const known = (await account("signin-known")).email;
    const unknown = uniqueEmail("signin-unknown");
    const results: string[][] = [];
    for (const email of [known, unknown]) {
      const since = Date.now();
      const asked = await post("/api/login-code", { email });
      expect(asked.status, asked.text).toBe(200);
      const code = email === known ? await mailedCode(email, since, /sign-in code/i) : undefined;
      results.push(await wrongTries((otp) => post("/api/login-code/verify", { email, otp }), code));
    }
    expect(results[0]).toContain("410 too_many_attempts");
    expect(results[1]).toEqual(results[0]);
  });

  it("email change: 7 wrong codes give the same answers for a change to a free address and to a taken one", async () => {
    const taken = (await account("change-taken")).email;
    const free = uniqueEmail("change-free");
    const results: string[][] = [];
    for (const target of [free, taken]) {
      // Each change is asked by an account of its own, so the two runs do not share a failure budget.
      const requester = await account("change-requester");
      const since = Date.now();
      const asked = await post("/api/account/email", { newEmail: target, password: PASSWORD }, { cookie: requester.cookie });
      expect(asked.status, asked.text).toBe(200);
      const code = target === free ? await mailedCode(target, since, /confirm your new address/i) : undefined;
      results.push(await wrongTries((otp) => post("/api/account/email/verify", { otp }, { cookie: requester.cookie }), code));
    }
    expect(results[0]).toContain("410 too_many_attempts");
    expect(results[1]).toEqual(results[0]);
  });
});
