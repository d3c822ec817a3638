import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AppServer } from "@/testing/services/app-server";
import { clientAddresses, withTestStack, expectErrorShape, httpClient, sessionCookieOf, verifiedAddress, mailedCode, type Reply } from "@/testing/http-client";
import { fuzzArbitraries } from "@/testing/fuzz";
import { uniqueEmail, wrongCodeFor } from "@/testing/people";
import { withRedisClient, type RedisClient } from "@/testing/services/redis-client";
import type { RedisServer } from "@/testing/services/redis-server";
import type { SmtpSink } from "@/testing/services/smtp-sink";
import { parseConfig } from "@/lib/platform/config";
import { CODE_PURPOSES } from "@/lib/codes/codes";
import { emailId, loginAccountLimits, sendLimits, verifyFailureLimits } from "@/lib/codes/limits";

/**
 * The recovery and account endpoints under the abuse checks, against the real production build
 * (`next start`, SIGN_IN_BY_CODE=true) with its own throwaway Redis, SMTP sink and file database, the
 * way tests/http/json-api.test.ts runs the signup endpoints: fuzzed bodies never get a 5xx and every refusal
 * has the error shape; /api/account/* without a session is 401 unauthenticated; racing consumes of the
 * right code succeed exactly once; parallel wrong guesses are evaluated at most 5 times per code; and a
 * reset ends every session signed in before it.
 *
 * The build is copied to a temp directory first (as tests/http/json-api.test.ts does), so a `next build`
 * someone else starts in the working tree cannot pull files from under the running server. Every request
 * carries its own X-Forwarded-For (TRUST_PROXY=true), so the per-IP caps apply per simulated visitor.
 */

const ROOT = process.cwd();
const AUTH_SECRET = randomBytes(32).toString("base64");
const codeConfig = parseConfig({ NODE_ENV: "test", AUTH_SECRET });
const PASSWORD = "velvet hammock orbit lantern 42";
const NEW_PASSWORD = "quiet orchard bicycle meadow 77";

let redis: RedisServer;
let sink: SmtpSink;
let app: AppServer;

withTestStack({ root: ROOT, snapshotPrefix: "http-api-purposes-", readyPath: "/login", authSecret: AUTH_SECRET, env: { SIGN_IN_BY_CODE: "true" } }, (stack) => {
  ({ redis, sink, app } = stack);
});

// ---- Requests -------------------------------------------------------------------------------------------

const nextIp = clientAddresses();

const { post, get } = httpClient(() => app.url, nextIp);
/** Asks `path` for a code to `to` and returns the mailed code. */
const codeFor = (path: string, body: Record<string, string>, to: string, subject: RegExp, cookie?: string) =>
  mailedCode(post, sink, { path, body, cookie }, to, subject);

/** name=value of each Set-Cookie (attributes dropped). */
function cookiesOf(headers: Headers): Map<string, string> {
  const jar = new Map<string, string>();
  for (const raw of headers.getSetCookie()) {
    const [pair = ""] = raw.split(";");
    const eq = pair.indexOf("=");
    jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
  }
  return jar;
}

const storeId = (email: string) => emailId(codeConfig.codes.hmacKey, email);
/** The address's hourly count of wrong codes (the IP's count is a rule of its own). */
const addressFailuresKey = (email: string) => verifyFailureLimits(codeConfig, storeId(email), "unused")[0]!.key;

const withRedis = <T>(run: (client: RedisClient) => Promise<T>) => withRedisClient(redis.url, run);

/** Ends the address's 60 s send cooldowns (one per purpose), as if the minute had passed (lib/codes/limits.ts sendLimits). */
async function endCooldown(email: string) {
  await withRedis((client) => client.del(CODE_PURPOSES.map((purpose) => sendLimits(codeConfig, storeId(email), purpose)[0]!.key)));
}

async function counter(key: string): Promise<number> {
  return withRedis(async (client) => Number((await client.get(key)) ?? 0));
}

/** Registers and verifies over the API; returns the address and the account's id. */
async function verifiedAccount(label: string): Promise<{ email: string; id: string }> {
  const { email, verify } = await verifiedAddress(post, sink, label, PASSWORD);
  return { email, id: verify.json.user.id };
}

/** POST /api/login: the session cookie. */
async function signIn(email: string, password = PASSWORD): Promise<string> {
  const r = await post("/api/login", { email, password });
  expect(r.status, r.text).toBe(200);
  const cookie = sessionCookieOf(r.headers);
  expect(cookie, "a session cookie").not.toBe("");
  return cookie;
}

async function opensAccount(cookie: string): Promise<boolean> {
  const r = await get("/account", { cookie });
  return r.status === 200 && !/\/login/.test(r.headers.get("location") ?? "");
}

// ---- Fuzz -------------------------------------------------------------------------------------------------

const PUBLIC_ENDPOINTS = ["/api/password-reset", "/api/password-reset/confirm", "/api/login-code", "/api/login-code/verify"] as const;
const ACCOUNT_ENDPOINTS = ["/api/account/email", "/api/account/email/verify", "/api/account/password"] as const;
const RUNS_PER_ENDPOINT = 300;
/** Bodies of a fuzz run that must get past the parser to the service (see the fuzz tests). */
const MIN_REACHED = RUNS_PER_ENDPOINT / 20;

const { anyValue, fuzzEmail, fuzzPassword, fuzzOtp, objectBody } = fuzzArbitraries({
  moreHostileStrings: ["123 456"],
  dangerousKeys: ["__proto__", "constructor", "prototype", "role", "isActive", "userId", "sessionVersion", "toString"],
});

/** Every field name any of the new endpoints reads. */
const FIELD_NAMES = ["email", "otp", "password", "newEmail", "currentPassword", "newPassword"] as const;

/** Bodies well-formed enough to reach the services (the store, hashing, mail, Auth.js). */
const plausible = fc.record({
  email: fuzzEmail,
  newEmail: fuzzEmail,
  otp: fuzzOtp,
  // Sometimes the signed-in account's real password, so /api/account/email gets past the password check
  // (and clears the failures the wrong ones counted). Never as currentPassword: a change would end the session.
  password: fc.oneof({ weight: 3, arbitrary: fuzzPassword }, { weight: 1, arbitrary: fc.constant(PASSWORD) }),
  currentPassword: fuzzPassword,
  newPassword: fuzzPassword,
});

const bodyText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 5,
    arbitrary: objectBody(
      fc.record(Object.fromEntries(FIELD_NAMES.map((name) => [name, anyValue])) as Record<(typeof FIELD_NAMES)[number], fc.Arbitrary<unknown>>, {
        requiredKeys: [],
      }),
      3,
    ),
  },
  {
    weight: 5,
    arbitrary: objectBody(plausible, 2),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? "null") },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 100 }) },
);

const contentType = fc.constantFrom("application/json", "application/json; charset=utf-8");

/** Runs the fuzz against `path`; `seen` counts the answers by status and error code ("400 wrong_code"). */
async function fuzz(path: string, cookie: string | undefined, check: (r: Reply, raw: string) => void, seen: Map<string, number>) {
  await fc.assert(
    fc.asyncProperty(bodyText, contentType, async (raw, type) => {
      const r = await post(path, undefined, { raw, cookie, headers: { "content-type": type } });
      const outcome = r.status >= 400 ? `${r.status} ${r.json?.error?.code}` : String(r.status);
      seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
      expect(r.status, `${path} ${raw.slice(0, 200)} -> ${r.text.slice(0, 300)}`).toBeLessThan(500);
      if (r.status >= 400) expectErrorShape(r);
      else expect(r.json?.ok, r.text).toBe(true);
      check(r, raw);
    }),
    { numRuns: RUNS_PER_ENDPOINT },
  );
}

describe(`fuzz: random and hostile bodies (fast-check, ${RUNS_PER_ENDPOINT} per endpoint)`, () => {
  it.each(PUBLIC_ENDPOINTS)(
    "%s never answers 5xx; every refusal has the error shape",
    async (path) => {
      const seen = new Map<string, number>();
      await fuzz(path, undefined, () => {}, seen);
      console.log("FUZZ", path, JSON.stringify([...seen]));
      // The fuzz reached past the parser: the service itself answered (200, wrong_code, rate_limited, ...) for
      // a good share of the bodies, not only invalid_input and payload_too_large. The bodies are random: the
      // endpoint with the strictest schema (reset confirm) got 30 to 54 of 300 through over seven CI runs,
      // so the floor sits at a twentieth, well below that spread; a parser refusing everything gives 0.
      const reached = [...seen].filter(([outcome]) => !/invalid_input|payload_too_large/.test(outcome)).reduce((sum, [, n]) => sum + n, 0);
      expect(reached, `bodies that reached the service: ${JSON.stringify([...seen])}`).toBeGreaterThan(MIN_REACHED);
    },
    240_000,
  );

  it.each(ACCOUNT_ENDPOINTS)(
    "%s without a session answers 401 unauthenticated to every body",
    async (path) => {
      const seen = new Map<string, number>();
      await fuzz(
        path,
        undefined,
        (r) => {
          expect(r.status).toBe(401);
          expect(r.json.error.code).toBe("unauthenticated");
        },
        seen,
      );
    },
    240_000,
  );

  it.each(ACCOUNT_ENDPOINTS)(
    "%s with a session never answers 5xx; every refusal has the error shape",
    async (path) => {
      const { email } = await verifiedAccount("fuzz-account");
      const cookie = await signIn(email);
      const seen = new Map<string, number>();
      await fuzz(path, cookie, () => {}, seen);
      console.log("FUZZ (signed in)", path, JSON.stringify([...seen]));
      expect(seen.get("401 unauthenticated") ?? 0, `the session held: ${JSON.stringify([...seen])}`).toBe(0);
      const reached = [...seen].filter(([outcome]) => !/invalid_input|payload_too_large/.test(outcome)).reduce((sum, [, n]) => sum + n, 0);
      expect(reached, `bodies that reached the service: ${JSON.stringify([...seen])}`).toBeGreaterThan(MIN_REACHED);
      // The session survived the fuzz (nobody guessed the password) and the account is unchanged.
      expect(await opensAccount(cookie)).toBe(true);
      const account = await get("/account", { cookie });
      expect(account.text).toContain(email);
    },
    240_000,
  );

  it("a stale or forged session cookie is 401 on /api/account/*, never 5xx", async () => {
    for (const path of ACCOUNT_ENDPOINTS) {
      for (const cookie of ["authjs.session-token=not-a-jwt", "authjs.session-token=", `authjs.session-token=${"A".repeat(3000)}`]) {
        const r = await post(
          path,
          { otp: "123456", newEmail: "x@example.test", password: PASSWORD, currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
          { cookie },
        );
        expect(r.status, `${path} ${cookie.slice(0, 40)} -> ${r.text}`).toBe(401);
        expectErrorShape(r, "unauthenticated");
      }
    }
  });
});

// ---- Races ------------------------------------------------------------------------------------------------

describe("races: one right code, many requests at once", () => {
  it("20 parallel /api/password-reset/confirm with the right code: exactly one 200, the rest 410 used", async () => {
    const { email } = await verifiedAccount("race-reset");
    await endCooldown(email);
    const code = await codeFor("/api/password-reset", { email }, email, /password reset code/i);

    const replies = await Promise.all(Array.from({ length: 20 }, () => post("/api/password-reset/confirm", { email, otp: code, password: NEW_PASSWORD })));

    expect(
      replies.filter((r) => r.status === 200),
      replies.map((r) => r.status).join(","),
    ).toHaveLength(1);
    for (const r of replies.filter((r) => r.status !== 200)) {
      expect(r.status, r.text).toBe(410);
      expectErrorShape(r, "used");
    }
    expect((await post("/api/login", { email, password: NEW_PASSWORD })).status).toBe(200);
    expect((await post("/api/login", { email, password: PASSWORD })).status).toBe(401);
  });

  it("20 parallel /api/login-code/verify with the right code: exactly one 200 with a session cookie", async () => {
    const { email } = await verifiedAccount("race-code");
    await endCooldown(email);
    const code = await codeFor("/api/login-code", { email }, email, /sign-in code/i);

    const replies = await Promise.all(Array.from({ length: 20 }, () => post("/api/login-code/verify", { email, otp: code })));

    const ok = replies.filter((r) => r.status === 200);
    expect(ok, replies.map((r) => r.status).join(",")).toHaveLength(1);
    expect(await opensAccount(sessionCookieOf(ok[0]!.headers))).toBe(true);
    for (const r of replies.filter((r) => r.status !== 200)) {
      expect(r.status, r.text).toBe(410);
      expectErrorShape(r, "used");
    }
  });

  it("20 parallel /api/account/email/verify with the right code: exactly one 200, and the address changed once", async () => {
    const { email } = await verifiedAccount("race-email");
    const cookie = await signIn(email);
    const target = uniqueEmail("race-email-new");
    const code = await codeFor("/api/account/email", { newEmail: target, password: PASSWORD }, target, /confirm your new address/i, cookie);

    const replies = await Promise.all(Array.from({ length: 20 }, () => post("/api/account/email/verify", { otp: code }, { cookie })));

    const ok = replies.filter((r) => r.status === 200);
    expect(ok, replies.map((r) => `${r.status} ${r.json?.error?.code ?? ""}`).join(",")).toHaveLength(1);
    expect(ok[0]?.json.user.email).toBe(target);
    // The others were refused: the code was used (the record is the account's, so those reading the
    // account after the change find it too, and no guess is counted); or their session had ended (401).
    for (const r of replies.filter((r) => r.status !== 200)) {
      expect(["410 used", "401 unauthenticated"], r.text).toContain(`${r.status} ${r.json?.error?.code}`);
      expectErrorShape(r);
    }
    expect(await counter(addressFailuresKey(target)), "guesses counted against the new address").toBe(0);
    expect(await counter(addressFailuresKey(email)), "guesses counted against the old address").toBe(0);
    expect((await post("/api/login", { email: target, password: PASSWORD })).status).toBe(200);
    expect((await post("/api/login", { email, password: PASSWORD })).status).toBe(401);
  });
});

describe("races: many wrong guesses at once", () => {
  function expectBounded(replies: Reply[], label: string) {
    const statuses = replies.map((r) => `${r.status}:${r.json?.error?.code ?? "ok"}`);
    const wrong = replies.filter((r) => r.json?.error?.code === "wrong_code").length;
    const void_ = replies.filter((r) => r.json?.error?.code === "too_many_attempts").length;
    const limited = replies.filter((r) => r.json?.error?.code === "rate_limited").length;
    expect(
      replies.filter((r) => r.status >= 500),
      `${label}: ${statuses.join(",")}`,
    ).toHaveLength(0);
    // At most 5 guesses are evaluated per code: 4 answer wrong_code, the 5th voids it.
    expect(wrong, `${label}: ${statuses.join(",")}`).toBeLessThanOrEqual(4);
    expect(wrong + void_ + limited, `${label}: ${statuses.join(",")}`).toBe(replies.length);
    for (const r of replies) expectErrorShape(r);
  }

  it("50 parallel wrong reset codes: at most 5 evaluated, then too_many_attempts; the right code is refused too", async () => {
    const { email } = await verifiedAccount("guess-reset");
    await endCooldown(email);
    const code = await codeFor("/api/password-reset", { email }, email, /password reset code/i);
    const wrong = wrongCodeFor(code);

    const replies = await Promise.all(Array.from({ length: 50 }, () => post("/api/password-reset/confirm", { email, otp: wrong, password: NEW_PASSWORD })));

    expectBounded(replies, "reset");
    expect(await counter(addressFailuresKey(email)), "failures counted").toBeLessThanOrEqual(5);
    const right = await post("/api/password-reset/confirm", { email, otp: code, password: NEW_PASSWORD });
    expect(right.status).toBe(410);
    expectErrorShape(right, "too_many_attempts");
    expect((await post("/api/login", { email, password: PASSWORD })).status).toBe(200);
  });

  it("50 parallel wrong sign-in codes: at most 5 evaluated, counted as at most 5 login failures", async () => {
    const { email } = await verifiedAccount("guess-code");
    await endCooldown(email);
    const code = await codeFor("/api/login-code", { email }, email, /sign-in code/i);

    const replies = await Promise.all(Array.from({ length: 50 }, () => post("/api/login-code/verify", { email, otp: wrongCodeFor(code) })));

    expectBounded(replies, "sign-in code");
    expect(await counter(loginAccountLimits(codeConfig, storeId(email)).window.key), "login failures counted").toBeLessThanOrEqual(5);
    const right = await post("/api/login-code/verify", { email, otp: code });
    expect(right.status).toBe(410);
    expectErrorShape(right, "too_many_attempts");
  });

  it("50 parallel wrong email-change codes: at most 5 evaluated; the address stays", async () => {
    const { email } = await verifiedAccount("guess-email");
    const cookie = await signIn(email);
    const target = uniqueEmail("guess-email-new");
    const code = await codeFor("/api/account/email", { newEmail: target, password: PASSWORD }, target, /confirm your new address/i, cookie);

    const replies = await Promise.all(Array.from({ length: 50 }, () => post("/api/account/email/verify", { otp: wrongCodeFor(code) }, { cookie })));

    expectBounded(replies, "email change");
    const right = await post("/api/account/email/verify", { otp: code }, { cookie });
    expect(right.status).toBe(410);
    expectErrorShape(right, "too_many_attempts");
    expect((await post("/api/login", { email, password: PASSWORD })).status).toBe(200);
  });

  it("switching purpose does not reset the per-address guess budget: 10 wrong reset guesses, then the right change-email code is refused", async () => {
    const { email } = await verifiedAccount("guess-shared");
    const cookie = await signIn(email);
    const target = uniqueEmail("guess-shared-new");
    const changeCode = await codeFor("/api/account/email", { newEmail: target, password: PASSWORD }, target, /confirm your new address/i, cookie);

    // Two reset codes, one after the other, each voided by 5 wrong guesses: 10 failures for the address.
    for (let round = 0; round < 2; round++) {
      await endCooldown(email);
      const resetCode = await codeFor("/api/password-reset", { email }, email, /password reset code/i);
      for (let i = 0; i < 5; i++) await post("/api/password-reset/confirm", { email, otp: wrongCodeFor(resetCode), password: NEW_PASSWORD });
    }
    expect(await counter(addressFailuresKey(email))).toBe(codeConfig.limits.verifyFailuresPerHour);

    const r = await post("/api/account/email/verify", { otp: changeCode }, { cookie });
    expect(r.status, r.text).toBe(429);
    expectErrorShape(r, "rate_limited");
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(3_000);
    expect((await post("/api/login", { email, password: PASSWORD })).status).toBe(200);
  });
});

// ---- Sessions ---------------------------------------------------------------------------------------------

describe("sessions end on a reset and on a change", () => {
  it("a reset over the API ends a session signed in before: its cookie no longer opens /account", async () => {
    const { email } = await verifiedAccount("reset-session");
    const old = await signIn(email);
    expect(await opensAccount(old)).toBe(true);
    await endCooldown(email);
    const code = await codeFor("/api/password-reset", { email }, email, /password reset code/i);

    const r = await post("/api/password-reset/confirm", { email, otp: code, password: NEW_PASSWORD });
    expect(r.status, r.text).toBe(200);

    const replay = await get("/account", { cookie: old });
    expect([302, 303, 307, 308]).toContain(replay.status);
    expect(replay.headers.get("location") ?? "").toMatch(/\/login/);
    const api = await post("/api/account/password", { currentPassword: NEW_PASSWORD, newPassword: PASSWORD }, { cookie: old });
    expect(api.status).toBe(401);
    expectErrorShape(api, "unauthenticated");
  });

  it("a new login ends the session it replaces: a copy of the old cookie no longer opens /account, other sessions go on", async () => {
    const { email } = await verifiedAccount("relogin");
    const elsewhere = await signIn(email);
    const old = await signIn(email);
    expect(await opensAccount(old)).toBe(true);

    const r = await post("/api/login", { email, password: PASSWORD }, { cookie: old });
    expect(r.status, r.text).toBe(200);
    const replacing = sessionCookieOf(r.headers);
    expect(replacing, "the new session cookie").not.toBe("");
    expect(replacing).not.toBe(old);

    expect(await opensAccount(old)).toBe(false);
    expect(await opensAccount(replacing)).toBe(true);
    expect(await opensAccount(elsewhere)).toBe(true);
  });

  it("a refused login leaves the session it came with alone", async () => {
    const { email } = await verifiedAccount("relogin-refused");
    const current = await signIn(email);
    const r = await post("/api/login", { email, password: NEW_PASSWORD }, { cookie: current });
    expect(r.status, r.text).toBe(401);
    expect(await opensAccount(current)).toBe(true);
  });

  it("a change of password over the API keeps the session that made it and ends the others", async () => {
    const { email } = await verifiedAccount("change-session");
    const mine = await signIn(email);
    const other = await signIn(email);
    const r = await post("/api/account/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, { cookie: mine });
    expect(r.status, r.text).toBe(200);
    const renewed = sessionCookieOf(r.headers);
    expect(renewed, "the renewed session cookie").not.toBe("");
    expect(await opensAccount(renewed)).toBe(true);
    expect(await opensAccount(other)).toBe(false);
  });

  it("an ended session cannot renew itself through Auth.js's session endpoint (POST /api/auth/session with renewFor)", async () => {
    // lib/sessions/auth.ts renews the current session after a change of password or email via updateSession
    // ({ renewFor }). Auth.js also accepts that update from the browser (useSession().update posts
    // { csrfToken, data } to /api/auth/session), so the renewal must not trust what the client sends.
    const { email, id } = await verifiedAccount("renew-forge");
    const old = await signIn(email);
    await endCooldown(email);
    const code = await codeFor("/api/password-reset", { email }, email, /password reset code/i);
    expect((await post("/api/password-reset/confirm", { email, otp: code, password: NEW_PASSWORD })).status).toBe(200);
    expect(await opensAccount(old)).toBe(false);

    // The holder of the old cookie asks Auth.js to carry it on under the new version (guessable: it counts up).
    let revived = false;
    for (let sessionVersion = 0; sessionVersion <= 3 && !revived; sessionVersion++) {
      const csrf = await get("/api/auth/csrf", { cookie: old });
      const csrfCookie = [...cookiesOf(csrf.headers)].map(([name, value]) => `${name}=${value}`).join("; ");
      const update = await post(
        "/api/auth/session",
        { csrfToken: csrf.json.csrfToken, data: { renewFor: { userId: id, sessionVersion, email } } },
        { cookie: `${old}; ${csrfCookie}` },
      );
      expect(update.status).toBeLessThan(500);
      const cookie = sessionCookieOf(update.headers);
      if (cookie && (await opensAccount(cookie))) revived = true;
    }
    expect(revived, "an ended session came back to life through POST /api/auth/session").toBe(false);
  });
});
