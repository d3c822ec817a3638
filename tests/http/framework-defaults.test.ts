import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { AppServer, TestStack } from "@/testing/services/app-server";
import { withRedisClient } from "@/testing/services/redis-client";
import type { SmtpSink } from "@/testing/services/smtp-sink";
import {
  clientAddresses,
  registerAndVerify,
  withTestStack,
  httpClient,
  SESSION_COOKIE,
  sessionCookieOf,
  verifiedAddress,
  mailedCode,
  type Reply,
} from "@/testing/http-client";
import { uniqueEmail } from "@/testing/people";
import { parseConfig } from "@/lib/platform/config";
import { publicUser } from "@/lib/web/json-api";
import { emailId, sendLimits } from "@/lib/codes/limits";

/**
 * Hardening that lives in the framework's and Auth.js's defaults rather than in the app's own code, checked
 * against the real production build (`next start`) the way tests/http/json-api.test.ts runs the API: the session
 * cookie's attributes over http and behind an https proxy, the headers of static files, the account fields
 * the API lets out, Auth.js's CSRF check on its sign-out, and Next's Origin check on server actions.
 *
 * The build is copied to a temp directory first, so a `next build` someone else starts in the working tree
 * cannot pull files from under the running server. The app runs with AUTH_TRUST_HOST=true and TRUST_PROXY=true
 * (testing/services/app-server.ts testAppEnv) and no AUTH_URL: the tests act as the trusted proxy, so every request
 * carries its own X-Forwarded-For and may say X-Forwarded-Proto: https.
 */

const ROOT = process.cwd();
const AUTH_SECRET = randomBytes(32).toString("base64");
const codeConfig = parseConfig({ NODE_ENV: "test", AUTH_SECRET });
const PASSWORD = "velvet hammock orbit lantern 42";
const NEW_PASSWORD = "quiet orchard bicycle meadow 77";

let stack: TestStack;
let sink: SmtpSink;
let app: AppServer;

withTestStack({ root: ROOT, snapshotPrefix: "http-hardening-", readyPath: "/login", authSecret: AUTH_SECRET }, (started) => {
  stack = started;
  ({ sink, app } = started);
});

// ---- Requests -------------------------------------------------------------------------------------------

const nextIp = clientAddresses();

const { post, get, postForm } = httpClient(() => app.url, nextIp);
/** Asks `path` for a code to `to` and returns the mailed code. */
const codeFor = (path: string, body: Record<string, string>, to: string, subject: RegExp, cookie?: string) =>
  mailedCode(post, sink, { path, body, cookie }, to, subject);

interface SetCookie {
  name: string;
  value: string;
  /** Attribute names lower-cased; a flag (HttpOnly, Secure) maps to "". */
  attributes: Map<string, string>;
  raw: string;
}

function setCookiesOf(headers: Headers): SetCookie[] {
  return headers.getSetCookie().map((raw) => {
    const [pair = "", ...rest] = raw.split(";");
    const eq = pair.indexOf("=");
    const attributes = new Map<string, string>();
    for (const part of rest) {
      const [key = "", ...value] = part.split("=");
      attributes.set(key.trim().toLowerCase(), value.join("=").trim());
    }
    return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1), attributes, raw };
  });
}

/** The non-empty session cookie(s) a response set. */
const sessionCookiesOf = (headers: Headers) => setCookiesOf(headers).filter((c) => SESSION_COOKIE.test(c.name) && c.value !== "");

/** Registers over the API and confirms the mailed code; returns the address and the verify-otp reply. */
const verifiedAccount = (label: string) => verifiedAddress(post, sink, label, PASSWORD);

/** POST /api/login: the session cookie as a Cookie header. */
async function signIn(email: string, password = PASSWORD): Promise<string> {
  const r = await post("/api/login", { email, password });
  expect(r.status, r.text).toBe(200);
  const cookie = sessionCookieOf(r.headers);
  expect(cookie, "a session cookie").not.toBe("");
  return cookie;
}

async function opensAccount(cookie: string, headers: Record<string, string> = {}): Promise<boolean> {
  const r = await get("/account", { cookie, ...headers });
  return r.status === 200 && !/\/login/.test(r.headers.get("location") ?? "");
}

/** Ends the address's 60 s send cooldown, as if the minute had passed (lib/codes/limits.ts sendLimits). */
async function endCooldown(email: string) {
  const cooldown = sendLimits(codeConfig, emailId(codeConfig.codes.hmacKey, email), "verify_email")[0]!;
  await withRedisClient(stack.redis.url, (client) => client.del(cooldown.key));
}

// ---- Session cookie -------------------------------------------------------------------------------------

describe("session cookie", () => {
  it("over plain http (no https AUTH_URL) the login sets authjs.session-token with HttpOnly, SameSite=Lax, Path=/ and no Domain", async () => {
    const { email } = await verifiedAccount("cookie-http");
    const r = await post("/api/login", { email, password: PASSWORD });
    expect(r.status, r.text).toBe(200);

    const session = sessionCookiesOf(r.headers);
    expect(
      session.map((c) => c.name),
      r.headers.getSetCookie().join(" | "),
    ).toEqual(["authjs.session-token"]);
    const cookie = session[0]!;
    expect(cookie.attributes.get("httponly"), cookie.raw).toBe("");
    expect(cookie.attributes.get("samesite")?.toLowerCase(), cookie.raw).toBe("lax");
    expect(cookie.attributes.get("path"), cookie.raw).toBe("/");
    expect(cookie.attributes.has("domain"), cookie.raw).toBe(false);
    // Plain http: a Secure cookie would never come back from a browser, so Auth.js leaves it off here.
    expect(cookie.attributes.has("secure"), cookie.raw).toBe(false);
    expect(await opensAccount(`${cookie.name}=${cookie.value}`)).toBe(true);
  });

  it("behind the trusted proxy with X-Forwarded-Proto: https the login sets __Secure-authjs.session-token marked Secure (Auth.js decides per request, never forced insecure)", async () => {
    const { email } = await verifiedAccount("cookie-https");
    const r = await post("/api/login", { email, password: PASSWORD }, { headers: { "x-forwarded-proto": "https" } });
    expect(r.status, r.text).toBe(200);

    const session = sessionCookiesOf(r.headers);
    expect(
      session.map((c) => c.name),
      r.headers.getSetCookie().join(" | "),
    ).toEqual(["__Secure-authjs.session-token"]);
    const cookie = session[0]!;
    expect(cookie.attributes.get("secure"), cookie.raw).toBe("");
    expect(cookie.attributes.get("httponly"), cookie.raw).toBe("");
    expect(cookie.attributes.get("samesite")?.toLowerCase(), cookie.raw).toBe("lax");
    expect(cookie.attributes.get("path"), cookie.raw).toBe("/");
    expect(cookie.attributes.has("domain"), cookie.raw).toBe(false);
    // No cookie without Secure went out alongside it.
    const insecure = setCookiesOf(r.headers).filter((c) => c.value !== "" && !c.attributes.has("secure"));
    expect(insecure.map((c) => c.raw)).toEqual([]);
    // The same proxy keeps saying https on the next request: the __Secure- cookie is the one read.
    expect(await opensAccount(`${cookie.name}=${cookie.value}`, { "x-forwarded-proto": "https" })).toBe(true);
  });
});

describe("session cookie with an https AUTH_URL (as on Vercel, or a site behind TLS)", () => {
  let secure: TestStack;
  withTestStack(
    { root: ROOT, snapshotPrefix: "http-hardening-https-", readyPath: "/login", authSecret: AUTH_SECRET, env: { AUTH_URL: "https://signup.example.test" } },
    (started) => {
      secure = started;
    },
  );

  it("the login sets __Host-authjs.session-token: Secure, HttpOnly, SameSite=Lax, Path=/, no Domain, and it opens the account", async () => {
    const client = httpClient(() => secure.app.url, nextIp);
    const email = uniqueEmail("cookie-host");
    await registerAndVerify(client.post, secure.sink, { email, password: PASSWORD });
    const r = await client.post("/api/login", { email, password: PASSWORD });
    expect(r.status, r.text).toBe(200);

    const session = sessionCookiesOf(r.headers);
    expect(
      session.map((c) => c.name),
      r.headers.getSetCookie().join(" | "),
    ).toEqual(["__Host-authjs.session-token"]);
    const cookie = session[0]!;
    for (const flag of ["secure", "httponly"]) expect(cookie.attributes.get(flag), cookie.raw).toBe("");
    expect(cookie.attributes.get("samesite")?.toLowerCase(), cookie.raw).toBe("lax");
    expect(cookie.attributes.get("path"), cookie.raw).toBe("/");
    expect(cookie.attributes.has("domain"), cookie.raw).toBe(false);
    const account = await client.get("/account", { cookie: `${cookie.name}=${cookie.value}` });
    expect(account.status, account.headers.get("location") ?? "").toBe(200);
  });
});

// ---- Static files -----------------------------------------------------------------------------------------

/** The values next.config.mjs sets on static files in a production build (from lib/web/security-headers.mjs). */
const STATIC_FILE_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "strict-origin-when-cross-origin",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "strict-transport-security": "max-age=63072000; includeSubDomains",
};

describe("static files", () => {
  it("a /_next/static asset from the page's HTML and /favicon.ico carry nosniff, the referrer policy, CSP default-src 'none' and HSTS, exactly as next.config.mjs sets them", async () => {
    const page = await get("/register");
    expect(page.status).toBe(200);
    const asset = /\/_next\/static\/[^"'\s<>]+\.js/.exec(page.text)?.[0];
    expect(asset, "a script under /_next/static in the HTML of /register").toBeTruthy();

    const script = await get(asset!);
    expect(script.status, asset).toBe(200);
    expect(script.headers.get("content-type") ?? "", asset).toMatch(/javascript/);
    // No favicon.ico in the app (it has app/icon.svg): 404 today, but the headers apply either way.
    const favicon = await get("/favicon.ico");
    expect([200, 404], "GET /favicon.ico").toContain(favicon.status);

    for (const [label, r] of [
      [asset!, script],
      ["/favicon.ico", favicon],
    ] as const) {
      const seen = Object.fromEntries(Object.keys(STATIC_FILE_HEADERS).map((name) => [name, r.headers.get(name)]));
      expect(seen, label).toEqual(STATIC_FILE_HEADERS);
      expect(r.headers.get("content-security-policy"), label).toContain("default-src 'none'");
      expect(r.headers.get("x-powered-by"), label).toBeNull();
    }
  });
});

describe("pages", () => {
  it("every page response carries COOP same-origin, X-Frame-Options DENY, the Permissions-Policy and HSTS (production)", async () => {
    for (const path of ["/", "/register", "/verify?email=a%40example.test", "/login", "/forgot-password"]) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get("cross-origin-opener-policy"), path).toBe("same-origin");
      expect(r.headers.get("x-frame-options"), path).toBe("DENY");
      expect(r.headers.get("permissions-policy"), path).toBe("camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()");
      expect(r.headers.get("strict-transport-security"), path).toBe("max-age=63072000; includeSubDomains");
    }
  });

  it("the development outbox does not exist in production: /dev/outbox answers 404 and shows no mail", async () => {
    const email = uniqueEmail("outbox");
    expect((await post("/api/register", { name: "Ada Lovelace", email, password: PASSWORD })).status).toBe(201);
    await sink.waitForMail(email, { after: Date.now() - 60_000 });
    const r = await get("/dev/outbox");
    expect(r.status).toBe(404);
    expect(r.text).not.toContain(email);
  });
});

// ---- Account fields ---------------------------------------------------------------------------------------

/** publicUser's allowlist, read from the function itself (fed a row with every internal column). */
const ALLOWED_USER_KEYS = Object.keys(
  publicUser({
    id: "id",
    email: "a@example.test",
    name: "A",
    role: "customer",
    emailVerifiedAt: null,
    ...({ passwordHash: "$argon2id$x", sessionVersion: 3, totpSecret: "x", isActive: true } as object),
  }),
).sort();

const INTERNAL_MARKERS = ["passwordHash", "$argon2", "sessionVersion", "totp"];

function expectPublicUser(r: Reply, label: string, email: string) {
  expect(r.status, `${label}: ${r.text}`).toBe(200);
  expect(Object.keys(r.json.user).sort(), label).toEqual(ALLOWED_USER_KEYS);
  expect(r.json.user.email, label).toBe(email);
  expect(r.json.user.role, label).toBe("customer");
  expect(r.json.user.emailVerifiedAt, label).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  for (const marker of INTERNAL_MARKERS) expect(r.text.includes(marker), `${label} body contains "${marker}": ${r.text}`).toBe(false);
}

describe("account fields in responses", () => {
  it("verify-otp, account/email/verify and password-reset/confirm return only publicUser's allowlisted fields, with no hash, session version or TOTP anywhere in the body", async () => {
    expect(ALLOWED_USER_KEYS).toEqual(["email", "emailVerifiedAt", "id", "name", "role"]);

    const { email, verify } = await verifiedAccount("fields");
    expectPublicUser(verify, "POST /api/verify-otp", email);

    const cookie = await signIn(email);
    const target = uniqueEmail("fields-new");
    const changeCode = await codeFor("/api/account/email", { newEmail: target, password: PASSWORD }, target, /confirm your new address/i, cookie);
    const changed = await post("/api/account/email/verify", { otp: changeCode }, { cookie });
    expectPublicUser(changed, "POST /api/account/email/verify", target);
    expect(changed.json.user.id).toBe(verify.json.user.id);

    await endCooldown(target);
    const resetCode = await codeFor("/api/password-reset", { email: target }, target, /password reset code/i);
    const reset = await post("/api/password-reset/confirm", { email: target, otp: resetCode, password: NEW_PASSWORD });
    expectPublicUser(reset, "POST /api/password-reset/confirm", target);
    expect(reset.json.user.id).toBe(verify.json.user.id);
  });
});

// ---- Auth.js CSRF -------------------------------------------------------------------------------------------

describe("Auth.js CSRF protection", () => {
  it("POST /api/auth/signout without the CSRF token leaves the session alive; with Auth.js's token it ends it (the app's own logout is a server action only)", async () => {
    const { email } = await verifiedAccount("csrf");
    const session = await signIn(email);
    expect(await opensAccount(session)).toBe(true);

    // What a cross-site form could send: the browser adds the cookies (the csrf cookie too, if it has one),
    // but the page elsewhere cannot read the token to put it in the body.
    const csrf = await get("/api/auth/csrf", { cookie: session });
    expect(csrf.status).toBe(200);
    expect(typeof csrf.json.csrfToken).toBe("string");
    const csrfCookie = setCookiesOf(csrf.headers)
      .filter((c) => /authjs\.csrf-token$/.test(c.name))
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");
    expect(csrfCookie, "Auth.js's csrf cookie").not.toBe("");

    const attempts: Array<[string, Record<string, string>, string]> = [
      ["no token, no csrf cookie", { callbackUrl: "/login" }, session],
      ["no token, with the csrf cookie", { callbackUrl: "/login" }, `${session}; ${csrfCookie}`],
      ["a forged token, with the csrf cookie", { csrfToken: randomBytes(32).toString("hex"), callbackUrl: "/login" }, `${session}; ${csrfCookie}`],
    ];
    for (const [label, fields, cookie] of attempts) {
      const r = await postForm("/api/auth/signout", fields, cookie);
      expect(r.status, `${label}: ${r.status} ${r.text.slice(0, 200)}`).toBeLessThan(500);
      const cleared = setCookiesOf(r.headers).filter((c) => SESSION_COOKIE.test(c.name));
      expect(
        cleared.map((c) => c.raw),
        `${label}: the session cookie was not cleared`,
      ).toEqual([]);
      expect(await opensAccount(session), `${label}: the session still opens /account`).toBe(true);
    }

    // The control: Auth.js's own sign-out with its token does end the session, for every copy of the cookie.
    const signout = await postForm("/api/auth/signout", { csrfToken: csrf.json.csrfToken, callbackUrl: "/login" }, `${session}; ${csrfCookie}`);
    expect(signout.status, signout.text.slice(0, 200)).toBeGreaterThanOrEqual(300);
    expect(signout.status).toBeLessThan(400);
    expect(await opensAccount(session)).toBe(false);
  });
});

// ---- Server actions ---------------------------------------------------------------------------------------

const decodeEntities = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

/** The hidden fields React renders into the login form for a post without JavaScript ($ACTION_REF_1, $ACTION_1:0 …). */
async function loginFormActionFields(): Promise<{ hidden: Array<[string, string]>; actionId: string }> {
  const page = await get("/login");
  expect(page.status).toBe(200);
  const form = [...page.text.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/g)].map((m) => m[0]).find((f) => /name="password"/.test(f));
  expect(form, "the login form in the HTML of /login").toBeTruthy();
  const hidden = [...form!.matchAll(/<input\b[^>]*>/g)]
    .map((m) => m[0])
    .filter((tag) => /type="hidden"/.test(tag))
    .map((tag): [string, string] => [decodeEntities(/name="([^"]*)"/.exec(tag)?.[1] ?? ""), decodeEntities(/value="([^"]*)"/.exec(tag)?.[1] ?? "")]);
  const reference = hidden.find(([name]) => /^\$ACTION_\d+:0$/.test(name));
  expect(reference, JSON.stringify(hidden)).toBeTruthy();
  const actionId = JSON.parse(reference![1]).id as string;
  expect(actionId).toMatch(/^[0-9a-f]{40,}$/);
  return { hidden, actionId };
}

/** loginAction as the browser posts it without JavaScript: the form's multipart body to the page. */
async function postLoginForm(hidden: Array<[string, string]>, email: string, origin: string | undefined) {
  const body = new FormData();
  for (const [name, value] of hidden) body.append(name, value);
  body.append("email", email);
  body.append("password", PASSWORD);
  const res = await fetch(`${app.url}/login`, {
    method: "POST",
    body,
    redirect: "manual",
    headers: { "x-forwarded-for": nextIp(), ...(origin ? { origin } : {}) },
  });
  await res.text();
  return res;
}

/** loginAction as the client router calls it: Next-Action header, the arguments (prevState, formData) in React's reply encoding. */
async function postLoginAction(actionId: string, email: string, origin: string | undefined) {
  const body = new FormData();
  body.append("_1_email", email);
  body.append("_1_password", PASSWORD);
  body.append("0", JSON.stringify([{ ok: false }, "$K1"]));
  const res = await fetch(`${app.url}/login`, {
    method: "POST",
    body,
    redirect: "manual",
    headers: { "next-action": actionId, accept: "text/x-component", "x-forwarded-for": nextIp(), ...(origin ? { origin } : {}) },
  });
  await res.text();
  return res;
}

const loginsLogged = (userId: string) => readFileSync(stack.logFile, "utf8").split(`"event":"login_ok","userId":"${userId}"`).length - 1;

describe("Next's server-action Origin check", () => {
  it("the login server action posted with Origin: https://evil.example (or null, or a look-alike host) is refused with no session and never runs; the same post from the app's own origin signs in", async () => {
    const { email, verify } = await verifiedAccount("action-origin");
    const userId: string = verify.json.user.id;
    const { hidden, actionId } = await loginFormActionFields();

    for (const origin of ["https://evil.example", "null", `http://127.0.0.1.evil.example:${app.port}`]) {
      for (const [style, send] of [
        ["form post", () => postLoginForm(hidden, email, origin)],
        ["Next-Action fetch", () => postLoginAction(actionId, email, origin)],
      ] as const) {
        const r = await send();
        const label = `${style}, Origin: ${origin}`;
        expect(r.status, label).toBe(500); // Next: "Invalid Server Actions request."
        expect(
          sessionCookiesOf(r.headers).map((c) => c.raw),
          label,
        ).toEqual([]);
        expect(r.headers.get("location"), label).toBeNull();
        expect(r.headers.get("x-action-redirect"), label).toBeNull();
      }
    }
    await new Promise((r) => setTimeout(r, 200)); // let the log reach the file
    expect(readFileSync(stack.logFile, "utf8")).toMatch(/does not match `origin` header with value `evil\.example`/);
    expect(loginsLogged(userId), "logins the refused posts made").toBe(0);

    // The controls: the same two posts from the app's own origin run the action and sign in.
    const form = await postLoginForm(hidden, email, app.url);
    expect(form.status).toBe(303);
    expect(form.headers.get("location")).toBe("/account");
    expect(await opensAccount(sessionCookieOf(form.headers))).toBe(true);

    const action = await postLoginAction(actionId, email, app.url);
    expect(action.status).toBe(200);
    expect(action.headers.get("x-action-redirect")).toMatch(/^\/account(;|$)/);
    expect(await opensAccount(sessionCookieOf(action.headers))).toBe(true);

    await new Promise((r) => setTimeout(r, 200));
    expect(loginsLogged(userId)).toBe(2);
  });
});
