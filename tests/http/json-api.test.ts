import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AppServer } from "@/testing/services/app-server";
import { extractCode } from "@/testing/mailbox";
import { clientAddresses, withTestStack, expectErrorShape, httpClient, SESSION_COOKIE } from "@/testing/http-client";
import { fuzzArbitraries } from "@/testing/fuzz";
import { withRedisClient, type RedisClient } from "@/testing/services/redis-client";
import type { RedisServer } from "@/testing/services/redis-server";
import type { SmtpSink } from "@/testing/services/smtp-sink";
import { codeKey } from "@/lib/codes/codes";
import { parseConfig } from "@/lib/platform/config";
import { emailId } from "@/lib/codes/limits";
import { cspDirectives } from "@/testing/csp";

/**
 * The JSON API, headers, sessions and faults against the real production build (`next start`) with its
 * own throwaway Redis, SMTP sink and file database. The build is copied to a temp directory first, so
 * a `next build` someone else starts in the working tree cannot pull files from under the running server.
 *
 * Every request carries its own X-Forwarded-For (the app runs with TRUST_PROXY=true, as behind a proxy),
 * so the per-IP caps apply per simulated visitor instead of to the whole run.
 */

const ROOT = process.cwd();
const AUTH_SECRET = randomBytes(32).toString("base64");
const codeConfig = parseConfig({ NODE_ENV: "test", AUTH_SECRET });
const PASSWORD = "velvet hammock orbit lantern 42";
const WRONG_PASSWORD = "quartz meadow violin harbour 17";
/** Every password the run types, searched for in the server log at the end. */
const PASSWORDS = [PASSWORD, WRONG_PASSWORD];

let redis: RedisServer;
let sink: SmtpSink;
let app: AppServer;

withTestStack({ root: ROOT, snapshotPrefix: "http-api-app-", readyPath: "/login", authSecret: AUTH_SECRET }, (stack) => {
  ({ redis, sink, app } = stack);
});

// ---- Requests -------------------------------------------------------------------------------------------

const nextIp = clientAddresses();

const { post, get } = httpClient(() => app.url, nextIp);

const person = (label: string) => ({
  name: "Ada Lovelace",
  email: `${label}-${Date.now()}-${randomBytes(3).toString("hex")}@example.test`,
  password: PASSWORD,
});

/** A signup over the API: its address, the mailed code and the registration token that applies its details. */
async function registered(label: string): Promise<{ email: string; code: string; registration: string }> {
  const p = person(label);
  const before = Date.now();
  const r = await post("/api/register", p);
  expect(r.status, r.text).toBe(201);
  const mail = await sink.waitForMail(p.email, { after: before - 1 });
  return { email: p.email, code: extractCode(mail), registration: r.json.registration };
}

async function verified(label: string): Promise<string> {
  const { email, code, registration } = await registered(label);
  const r = await post("/api/verify-otp", { email, otp: code, registration });
  expect(r.status, r.text).toBe(200);
  return email;
}

const withRedis = <T>(run: (client: RedisClient) => Promise<T>) => withRedisClient(redis.url, run);

const storeId = (email: string) => emailId(codeConfig.codes.hmacKey, email);

// ---- The API -------------------------------------------------------------------------------------------

const ENDPOINTS = ["/api/register", "/api/verify-otp", "/api/resend-otp", "/api/login"] as const;

describe("JSON API: error shape and statuses", () => {
  it("answers 400 invalid_input with a message per field for a body missing every field", async () => {
    const r = await post("/api/register", {});
    expect(r.status).toBe(400);
    expectErrorShape(r, "invalid_input");
    expect(Object.keys(r.json.error.fields).sort()).toEqual(["email", "name", "password"]);
  });

  it("answers 400 invalid_input for malformed JSON and for JSON that is not an object, on every endpoint", async () => {
    for (const path of ENDPOINTS) {
      for (const raw of ["{not json", "", "[]", "null", "42", '"text"', '{"email": "a@example.test",}']) {
        const r = await post(path, undefined, { raw });
        expect(r.status, `${path} ${raw}`).toBe(400);
        expectErrorShape(r, "invalid_input");
      }
    }
  });

  it("answers 415 for a body that is not application/json, on every endpoint", async () => {
    for (const path of ENDPOINTS) {
      for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp"]) {
        const r = await post(path, undefined, { raw: "email=a%40example.test", headers: { "content-type": type } });
        expect(r.status, `${path} ${type}`).toBe(415);
        expectErrorShape(r, "unsupported_media_type");
      }
    }
  });

  it("answers 413 for a body over 16 kB, counted in bytes", async () => {
    const big = await post("/api/register", { name: "x".repeat(17_000), email: "big@example.test", password: PASSWORD });
    expect(big.status).toBe(413);
    expectErrorShape(big, "payload_too_large");
    // 6,000 characters of "€" are 18,000 bytes: under 16 K characters, over 16 kB.
    const wide = await post("/api/login", { email: "wide@example.test", password: "€".repeat(6_000) });
    expect(wide.status).toBe(413);
    expectErrorShape(wide, "payload_too_large");
  });

  it("answers 401 invalid_credentials alike for an unknown email and a wrong password", async () => {
    const email = await verified("login401");
    const unknown = await post("/api/login", { email: `nobody-${Date.now()}@example.test`, password: WRONG_PASSWORD });
    const wrong = await post("/api/login", { email, password: WRONG_PASSWORD });
    expect(unknown.status).toBe(401);
    expectErrorShape(unknown, "invalid_credentials");
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual(unknown.json);
  });

  it("answers 403 unverified for the right password before verification, and 200 after", async () => {
    const { email, code, registration } = await registered("login403");
    const before = await post("/api/login", { email, password: PASSWORD });
    expect(before.status).toBe(403);
    expectErrorShape(before, "unverified");
    expect((await post("/api/verify-otp", { email, otp: code, registration })).status).toBe(200);
    const after = await post("/api/login", { email, password: PASSWORD });
    expect(after.status, after.text).toBe(200);
  });

  it("answers 410 used for a code used twice", async () => {
    const { email, code, registration } = await registered("used410");
    const first = await post("/api/verify-otp", { email, otp: code, registration });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ ok: true, user: { email, role: "customer" } });
    expect(Object.keys(first.json.user).sort()).toEqual(["email", "emailVerifiedAt", "id", "name", "role"]);
    const second = await post("/api/verify-otp", { email, otp: code, registration });
    expect(second.status).toBe(410);
    expectErrorShape(second, "used");
  });

  it("answers 410 expired for a code past its ten minutes", async () => {
    const { email, code, registration } = await registered("expired410");
    const key = codeKey(storeId(email), "verify_email");
    await withRedis(async (client) => {
      const record = await client.hGetAll(key);
      expect(record.h1, `a live code record under ${key}`).toBeTruthy();
      await client.hSet(key, { e1: String(Date.now() - 1_000) });
    });
    const r = await post("/api/verify-otp", { email, otp: code, registration });
    expect(r.status).toBe(410);
    expectErrorShape(r, "expired");
  });

  it("answers 400 wrong_code for a wrong code", async () => {
    const { email, code, registration } = await registered("wrong400");
    const r = await post("/api/verify-otp", { email, otp: String((Number(code) + 1) % 1_000_000).padStart(6, "0"), registration });
    expect(r.status).toBe(400);
    expectErrorShape(r, "wrong_code");
  });

  it("answers 429 rate_limited with a Retry-After header for a resend within the cooldown", async () => {
    const { email } = await registered("cooldown429");
    const r = await post("/api/resend-otp", { email });
    expect(r.status).toBe(429);
    expectErrorShape(r, "rate_limited");
    const retryAfter = Number(r.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it("answers 429 with Retry-After once one IP has registered 20 times in the hour", async () => {
    const ip = nextIp();
    for (let i = 0; i < 20; i++) {
      const r = await post("/api/register", person(`ipcap${i}`), { ip });
      expect(r.status, r.text).toBe(201);
    }
    const refused = await post("/api/register", person("ipcap-extra"), { ip });
    expect(refused.status).toBe(429);
    expectErrorShape(refused, "rate_limited");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(3_000);
  }, 60_000);

  it("refuses with 403 cross_site a request whose Origin is another site, on every endpoint", async () => {
    for (const path of ENDPOINTS) {
      for (const origin of ["https://evil.example", "null", `http://127.0.0.1.evil.example:${app.port}`]) {
        const r = await post(path, {}, { headers: { origin } });
        expect(r.status, `${path} Origin: ${origin}`).toBe(403);
        expectErrorShape(r, "cross_site");
      }
    }
  });

  it("refuses with 403 cross_site a request the browser marks Sec-Fetch-Site: cross-site", async () => {
    for (const path of ENDPOINTS) {
      const r = await post(path, {}, { headers: { "sec-fetch-site": "cross-site" } });
      expect(r.status, path).toBe(403);
      expectErrorShape(r, "cross_site");
    }
  });

  it("lets through a same-origin Origin, Sec-Fetch-Site: same-origin, and a request with neither (non-browser clients)", async () => {
    const variants: Array<Record<string, string>> = [{ origin: app.url }, { "sec-fetch-site": "same-origin", origin: app.url }, {}];
    for (const headers of variants) {
      const r = await post("/api/register", {}, { headers });
      expect(r.status, JSON.stringify(headers)).toBe(400);
      expectErrorShape(r, "invalid_input");
    }
  });

  it("ignores unknown fields: a signup smuggling role and isActive creates an inactive customer", async () => {
    const p = person("smuggle");
    const r = await post("/api/register", { ...p, role: "admin", isActive: true, emailVerifiedAt: new Date().toISOString(), id: "mine" });
    expect(r.status, r.text).toBe(201);
    expect((await post("/api/login", { email: p.email, password: PASSWORD })).status).toBe(403);
    const code = extractCode(await sink.waitForMail(p.email));
    const v = await post("/api/verify-otp", { email: p.email, otp: code, registration: r.json.registration });
    expect(v.json.user).toMatchObject({ role: "customer" });
    expect(v.json.user.id).not.toBe("mine");
  });
});

// ---- Headers ------------------------------------------------------------------------------------------

function expectCommonHeaders(headers: Headers, label: string) {
  const csp = headers.get("content-security-policy");
  expect(csp, `${label}: Content-Security-Policy`).toBeTruthy();
  const policy = cspDirectives(csp!);
  expect(policy.get("object-src"), label).toBe("object-src 'none'");
  expect(policy.get("base-uri"), label).toBe("base-uri 'none'");
  expect(policy.get("frame-ancestors"), label).toBe("frame-ancestors 'none'");
  expect(policy.get("script-src") ?? "", label).not.toContain("'unsafe-inline'");
  expect(policy.get("script-src") ?? "", label).not.toContain("'unsafe-eval'");
  expect(headers.get("x-content-type-options"), label).toBe("nosniff");
  expect(headers.get("referrer-policy"), label).toMatch(/^(no-referrer|strict-origin-when-cross-origin|same-origin|strict-origin)$/);
  expect(headers.get("permissions-policy"), label).toMatch(/camera=\(\)/);
  expect(headers.get("strict-transport-security"), label).toMatch(/max-age=\d{7,}/);
  expect(headers.get("x-powered-by"), label).toBeNull();
  return policy;
}

describe("security headers", () => {
  it("are on JSON API responses, errors and successes alike", async () => {
    const error = await post("/api/register", {});
    expectCommonHeaders(error.headers, "POST /api/register 400");
    const refused = await post("/api/login", {}, { headers: { origin: "https://evil.example" } });
    expectCommonHeaders(refused.headers, "POST /api/login 403");
    const health = await get("/api/health");
    expectCommonHeaders(health.headers, "GET /api/health");
  });

  it("are on every other /api answer too: Auth.js's own routes, an unknown path, a wrong method (they come from next.config, not the proxy)", async () => {
    const session = await get("/api/auth/session");
    expect(session.status).toBe(200);
    expectCommonHeaders(session.headers, "GET /api/auth/session");
    const unknown = await get("/api/no-such-route");
    expect(unknown.status).toBe(404);
    expectCommonHeaders(unknown.headers, "GET /api/no-such-route");
    const method = await fetch(`${app.url}/api/register`, { method: "PUT", headers: { "x-forwarded-for": nextIp() } });
    expect(method.status).toBe(405);
    expectCommonHeaders(method.headers, "PUT /api/register");
    const csp = cspDirectives(method.headers.get("content-security-policy")!);
    expect(csp.get("script-src")).toBe("script-src 'none'");
  });

  // The auth pages without per-request data are served prerendered with script hashes (tests/unit/static-pages-csp.test.ts);
  // a page rendered per request (here /login with a query) carries a fresh nonce.
  it("are on pages rendered per request, with a script nonce of at least 16 random bytes that every script carries", async () => {
    const page = await get("/login?verified=1");
    expect(page.status).toBe(200);
    const policy = expectCommonHeaders(page.headers, "GET /login?verified=1");
    const scriptSrc = policy.get("script-src")!;
    const nonce = /'nonce-([^']+)'/.exec(scriptSrc)?.[1];
    expect(nonce, scriptSrc).toBeTruthy();
    expect(Buffer.from(nonce!, "base64").length).toBeGreaterThanOrEqual(16);
    expect(nonce).not.toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/i); // not a UUID
    const scripts = page.text.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    expect(scripts.filter((tag) => !tag.includes(`nonce="${nonce}"`))).toEqual([]);
  });

  it("give each page load rendered per request its own nonce", async () => {
    const nonces = new Set<string>();
    for (const path of ["/login?verified=1", "/login?verified=1", "/verify", "/verify"]) {
      const csp = (await get(path)).headers.get("content-security-policy") ?? "";
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
      expect(nonce, `${path}: ${csp}`).toBeTruthy();
      nonces.add(nonce!);
    }
    expect(nonces.size).toBe(4);
  });
});

// ---- Fuzz ---------------------------------------------------------------------------------------------

const { hostileStrings, anyValue, fuzzEmail, fuzzPassword, fuzzOtp, objectBody } = fuzzArbitraries({
  moreHostileStrings: ["prototype"],
  graphemes: true,
  // Keys that would pollute a prototype if a parser or merge copied them carelessly.
  dangerousKeys: ["__proto__", "constructor", "prototype", "role", "isActive", "toString", "hasOwnProperty", "__defineGetter__"],
});

/** Bodies that pass validation often enough to reach the service (hashing, the store, mail, Auth.js). */
const plausible = fc.record({
  name: fc.oneof({ weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 30 }) }, { weight: 1, arbitrary: fc.constantFrom(...hostileStrings) }),
  email: fuzzEmail,
  password: fuzzPassword,
  otp: fuzzOtp,
});

const bodyText: fc.Arbitrary<string> = fc.oneof(
  // Objects with the endpoints' field names, any values, plus dangerous keys.
  {
    weight: 5,
    arbitrary: objectBody(fc.record({ name: anyValue, email: anyValue, password: anyValue, otp: anyValue, totp: anyValue }, { requiredKeys: [] }), 3),
  },
  // Well-formed enough to reach the service (hashing, the store, mail).
  {
    weight: 2,
    arbitrary: objectBody(plausible, 2),
  },
  // Any JSON at all: arrays, numbers, strings, null, nested objects.
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? "null") },
  // Not JSON.
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 100 }) },
);

describe("fuzz: random and hostile bodies", () => {
  it("never answers 5xx, and every refusal has the error shape (fast-check, 2,800 bodies over 4 endpoints)", async () => {
    const seen = new Map<number, number>();
    const request = fc.tuple(fc.constantFrom(...ENDPOINTS), bodyText, fc.constantFrom("application/json", "application/json; charset=utf-8"));
    await fc.assert(
      // Four requests at a time, as concurrent clients would send them.
      fc.asyncProperty(fc.array(request, { minLength: 4, maxLength: 4 }), async (batch) => {
        const replies = await Promise.all(batch.map(([path, raw, type]) => post(path, undefined, { raw, headers: { "content-type": type } })));
        replies.forEach((r, i) => {
          const [path, raw] = batch[i]!;
          seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
          expect(r.status, `${path} ${raw.slice(0, 200)} -> ${r.text.slice(0, 300)}`).toBeLessThan(500);
          if (r.status >= 400) expectErrorShape(r);
          else expect(r.json?.ok, r.text).toBe(true);
        });
      }),
      { numRuns: 700 },
    );
    // The fuzz reached past parsing: beyond the 400s and 413s, the service itself answered often (201, 200, 401...).
    const pastParsing = [...seen].filter(([status]) => status !== 400 && status !== 413).reduce((sum, [, n]) => sum + n, 0);
    expect(seen.get(400) ?? 0, JSON.stringify([...seen])).toBeGreaterThan(500);
    expect(seen.get(413) ?? 0, JSON.stringify([...seen])).toBeGreaterThan(10);
    expect(pastParsing, JSON.stringify([...seen])).toBeGreaterThan(100);
  }, 150_000);

  it("did not pollute anything: a normal signup still works after the fuzz", async () => {
    const email = await verified("after-fuzz");
    const r = await post("/api/login", { email, password: PASSWORD });
    expect(r.status, r.text).toBe(200);
  });
});

// ---- Sessions -----------------------------------------------------------------------------------------

/** name=value of each Set-Cookie (attributes dropped). */
function cookiesOf(headers: Headers): Map<string, { value: string; raw: string }> {
  const jar = new Map<string, { value: string; raw: string }>();
  for (const raw of headers.getSetCookie()) {
    const [pair = ""] = raw.split(";");
    const eq = pair.indexOf("=");
    jar.set(pair.slice(0, eq).trim(), { value: pair.slice(eq + 1), raw });
  }
  return jar;
}

const cookieHeader = (jar: Map<string, { value: string }>) => [...jar].map(([name, { value }]) => `${name}=${value}`).join("; ");
const sessionCookies: string[] = [];

describe("sessions", () => {
  it("a logout ends the session for every copy of its cookie: replaying the captured cookie on /account is sent to /login", async () => {
    const email = await verified("session");
    const login = await post("/api/login", { email, password: PASSWORD });
    expect(login.status, login.text).toBe(200);
    const issued = cookiesOf(login.headers);
    const session = new Map([...issued].filter(([name]) => SESSION_COOKIE.test(name)));
    expect(session.size, `session cookie in ${login.headers.getSetCookie().join(" | ")}`).toBeGreaterThan(0);
    for (const { raw, value } of session.values()) {
      expect(raw).toMatch(/;\s*HttpOnly/i);
      expect(raw).toMatch(/;\s*SameSite=Lax/i);
      expect(raw).toMatch(/;\s*Path=\//i);
      expect(raw).not.toMatch(/;\s*Domain=/i);
      sessionCookies.push(value);
    }
    const captured = cookieHeader(session);

    const account = await get("/account", { cookie: captured });
    expect(account.status).toBe(200);
    expect(account.text).toContain(email);

    // Auth.js's own sign-out: its CSRF token first, then a form post.
    const csrf = await get("/api/auth/csrf", { cookie: captured });
    expect(csrf.status).toBe(200);
    const csrfCookies = cookiesOf(csrf.headers);
    const signout = await fetch(`${app.url}/api/auth/signout`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: `${captured}; ${cookieHeader(csrfCookies)}`,
        "x-forwarded-for": nextIp(),
      },
      body: new URLSearchParams({ csrfToken: csrf.json.csrfToken, callbackUrl: "/login" }).toString(),
      redirect: "manual",
    });
    expect(signout.status, await signout.text()).toBeGreaterThanOrEqual(300);
    expect(signout.status).toBeLessThan(400);

    // The browser would have dropped the cookie; an attacker who copied it replays it.
    const replay = await get("/account", { cookie: captured });
    expect([302, 303, 307, 308]).toContain(replay.status);
    expect(replay.headers.get("location") ?? "").toMatch(/\/login/);
  });

  it("refuses /account without a session, sending the visitor to /login", async () => {
    const r = await get("/account");
    expect([302, 303, 307, 308]).toContain(r.status);
    expect(r.headers.get("location") ?? "").toMatch(/\/login/);
  });
});

// ---- Faults ---------------------------------------------------------------------------------------------

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("faults", () => {
  it("with Redis stopped, register and verify-otp (and resend, login) answer 503 store_unavailable without a stack trace; when Redis is back the app works again without a restart and the account made before can finish", async () => {
    const earlier = await registered("before-outage");
    const pid = app.pid;

    await redis.stop();
    try {
      const started = Date.now();
      const register = await post("/api/register", person("during-outage"));
      expect(register.status, register.text).toBe(503);
      expectErrorShape(register, "store_unavailable");
      const verify = await post("/api/verify-otp", { email: earlier.email, otp: earlier.code, registration: earlier.registration });
      expect(verify.status, verify.text).toBe(503);
      expectErrorShape(verify, "store_unavailable");
      const resend = await post("/api/resend-otp", { email: earlier.email });
      expect(resend.status, resend.text).toBe(503);
      expectErrorShape(resend, "store_unavailable");
      const login = await post("/api/login", { email: earlier.email, password: PASSWORD });
      expect(login.status, login.text).toBe(503);
      expectErrorShape(login, "store_unavailable");
      expect(Date.now() - started, "four refusals, each within the store's deadline").toBeLessThan(20_000);
    } finally {
      await redis.start();
    }

    // Back without a restart: the same server process answers normally again.
    const fresh = person("after-outage");
    await eventually("a registration succeeding after Redis came back", async () => {
      const r = await post("/api/register", fresh);
      return r.status === 201;
    });
    expect(app.pid).toBe(pid);

    // The account made before the outage is intact; its code and its pending signup went with the
    // non-persistent Redis, so a new code is asked for and the verifier chooses name and password again.
    const before = Date.now();
    const resend = await post("/api/resend-otp", { email: earlier.email });
    expect(resend.status, resend.text).toBe(200);
    const code = extractCode(await sink.waitForMail(earlier.email, { after: before - 1 }));
    const stale = await post("/api/verify-otp", { email: earlier.email, otp: code, registration: earlier.registration });
    expect(stale.status, stale.text).toBe(400);
    expectErrorShape(stale, "choose_password");
    const verify = await post("/api/verify-otp", { email: earlier.email, otp: code, name: "Ada Lovelace", password: PASSWORD });
    expect(verify.status, verify.text).toBe(200);
    expect((await post("/api/login", { email: earlier.email, password: PASSWORD })).status).toBe(200);
  }, 90_000);

  it("with the SMTP sink stopped, register answers 201 and the delivery stays sending; once the sink is back the queued code arrives and verification completes", async () => {
    const p = person("smtp-outage");
    let registration = "";
    const before = Date.now();
    await sink.stop();
    try {
      const r = await post("/api/register", p);
      expect(r.status, r.text).toBe(201);
      expect(r.json.delivery).toBe("sending");
      registration = r.json.registration;
      // The account exists: the right password is told it is unverified (and only that).
      const login = await post("/api/login", { email: p.email, password: PASSWORD });
      expect(login.status, login.text).toBe(403);
      expectErrorShape(login, "unverified");
      const state = await get(`/api/delivery?email=${encodeURIComponent(p.email)}`);
      expect(state.status, state.text).toBe(200);
      expect(state.json).toEqual({ email: p.email, purpose: "verify_email", delivery: "sending" });
    } finally {
      await sink.start();
    }

    // The queue retries a transport that does not answer (with backoff): the same code arrives once the sink is back.
    const code = extractCode(await sink.waitForMail(p.email, { after: before - 1, timeoutMs: 20_000 }));
    const verify = await post("/api/verify-otp", { email: p.email, otp: code, registration });
    expect(verify.status, verify.text).toBe(200);
    expect((await get(`/api/delivery?email=${encodeURIComponent(p.email)}`)).json.delivery).toBe("sent");
  }, 60_000);
});

// ---- Logs (last: it reads what the whole run wrote) ----------------------------------------------------

describe("server log", () => {
  it("never contains a code, a password or a session token used in the run", async () => {
    await new Promise((r) => setTimeout(r, 500)); // let the last lines reach the file
    const log = readFileSync(app.logFile, "utf8");
    // The log was captured: the run's auth events are in it.
    expect(log).toMatch(/"event":"registered"/);
    expect(log).toMatch(/"event":"verified"/);

    const codes = new Set<string>();
    for (const mail of sink.messages) for (const match of mail.text.matchAll(/(?<!\d)\d{6}(?!\d)/g)) codes.add(match[0]);
    expect(codes.size).toBeGreaterThan(10);
    // Bounded by anything but letters, digits, "_" and "-", so hex ids and timestamps cannot match by chance.
    const leakedCodes = [...codes].filter((code) => new RegExp(`(?<![\\w-])${code}(?![\\w-])`).test(log));
    expect(leakedCodes, "codes found in the server log").toEqual([]);
    for (const password of PASSWORDS) expect(log.includes(password), `password "${password}" in the server log`).toBe(false);
    expect(sessionCookies.length).toBeGreaterThan(0);
    for (const token of sessionCookies) expect(log.includes(token.slice(0, 40)), "a session token in the server log").toBe(false);
  });
});
