import { describe, expect, it } from "vitest";
import type { AppServer, TestStack } from "@/testing/services/app-server";
import { withRedisClient } from "@/testing/services/redis-client";
import { clientAddresses, httpClient, withTestStack, cookieHeaderOf, sessionCookieOf, verifiedAddress } from "@/testing/http-client";

/**
 * Sessions that end stay ended, replayed against the production build (`next start`) with its own Redis:
 * an attacker holds a copy of a session cookie, the session is ended (logout, or a new login in that
 * browser), and then Redis loses its data (a restart without persistence, an eviction; here FLUSHALL).
 * The copy must still be refused, on a page and on a JSON route that needs a session. And Auth.js's own
 * credentials callback, a login path that would not end the session the browser came with, is closed.
 */

const ROOT = process.cwd();
const PASSWORD = "velvet hammock orbit lantern 42";

let stack: TestStack;
let app: AppServer;

withTestStack({ root: ROOT, snapshotPrefix: "http-session-end-", readyPath: "/login" }, (started) => {
  stack = started;
  ({ app } = started);
});

const nextIp = clientAddresses();
const { post, get, postForm } = httpClient(() => app.url, nextIp);

const verifiedAccount = async (label: string): Promise<string> => (await verifiedAddress(post, stack.sink, label, PASSWORD)).email;

/** POST /api/login (with the cookie the browser already has, if any): the new session cookie. */
async function logIn(email: string, cookie?: string): Promise<string> {
  const r = await post("/api/login", { email, password: PASSWORD }, { cookie });
  expect(r.status, r.text).toBe(200);
  const session = sessionCookieOf(r.headers);
  expect(session !== "", "a session cookie").toBe(true);
  return session;
}

/** Auth.js's CSRF token and its cookie, fetched with `cookie`. */
async function csrfFor(cookie: string): Promise<{ token: string; cookie: string }> {
  const r = await get("/api/auth/csrf", { cookie });
  expect(r.status).toBe(200);
  return { token: r.json.csrfToken, cookie: cookieHeaderOf(r.headers, /csrf-token$/) };
}

/** Auth.js's own sign-out, as the browser sends it. */
async function logOut(session: string): Promise<void> {
  const csrf = await csrfFor(session);
  const r = await postForm("/api/auth/signout", { csrfToken: csrf.token, callbackUrl: "/login" }, `${session}; ${csrf.cookie}`);
  expect(r.status, r.text).toBeGreaterThanOrEqual(300);
  expect(r.status).toBeLessThan(400);
}

const flushRedis = () => withRedisClient(stack.redis.url, (client) => client.flushAll());

/** GET /account: "open" (200), or "login" when sent to /login. */
async function account(cookie: string): Promise<"open" | "login" | number> {
  const r = await get("/account", { cookie });
  if (r.status === 200) return "open";
  if ([302, 303, 307, 308].includes(r.status) && /\/login/.test(r.headers.get("location") ?? "")) return "login";
  return r.status;
}

/** A JSON route that needs a session: 401 without one; with one, an empty body is 400 invalid_input. */
async function passwordApi(cookie: string): Promise<number> {
  return (await post("/api/account/password", {}, { cookie })).status;
}

describe("an ended session stays ended when Redis loses its data", () => {
  it("a copy of a logged-out cookie replayed after FLUSHALL is refused on /account and on a JSON route", async () => {
    const email = await verifiedAccount("logout-flush");
    const copied = await logIn(email);
    expect(await account(copied)).toBe("open");
    expect(await passwordApi(copied)).toBe(400);

    await logOut(copied);
    expect(await account(copied)).toBe("login");

    await flushRedis();
    expect(await account(copied), "the logged-out cookie opened /account after FLUSHALL").toBe("login");
    expect(await passwordApi(copied), "the logged-out cookie passed a JSON route after FLUSHALL").toBe(401);
  });

  it("a session replaced by a new login in the same browser stays ended after FLUSHALL; the new one works", async () => {
    const email = await verifiedAccount("replaced-flush");
    const old = await logIn(email);
    const current = await logIn(email, old);
    expect(await account(old)).toBe("login");

    await flushRedis();
    expect(await account(old), "the replaced cookie opened /account after FLUSHALL").toBe("login");
    expect(await passwordApi(old)).toBe(401);
    expect(await account(current)).toBe("open");
  });

  it("a session nobody ended carries on after FLUSHALL", async () => {
    const email = await verifiedAccount("live-flush");
    const session = await logIn(email);
    await flushRedis();
    expect(await account(session)).toBe("open");
    expect(await passwordApi(session)).toBe(400);
  });
});

describe("Auth.js's credentials callback is not a login path", () => {
  for (const provider of ["credentials", "email-code"]) {
    it(`POST /api/auth/callback/${provider} with Auth.js's CSRF token and the right password is refused: no new session, the old one untouched`, async () => {
      const email = await verifiedAccount(`callback-${provider}`);
      const old = await logIn(email);
      const csrf = await csrfFor(old);
      const r = await postForm(
        `/api/auth/callback/${provider}`,
        { email, password: PASSWORD, otp: "000000", csrfToken: csrf.token, callbackUrl: "/account" },
        `${old}; ${csrf.cookie}`,
      );
      expect(sessionCookieOf(r.headers) !== "", "Auth.js's callback set a session cookie").toBe(false);
      expect(r.status).toBe(404);
      expect(await account(old)).toBe("open");
    });
  }

  it("POST /api/auth/callback without a provider is refused as the providers' callbacks are: 404, no new session", async () => {
    const email = await verifiedAccount("callback-bare");
    const old = await logIn(email);
    const csrf = await csrfFor(old);
    const r = await postForm("/api/auth/callback", { email, password: PASSWORD, csrfToken: csrf.token, callbackUrl: "/account" }, `${old}; ${csrf.cookie}`);
    expect(sessionCookieOf(r.headers) !== "", "Auth.js's callback set a session cookie").toBe(false);
    expect(r.status).toBe(404);
    expect(await account(old)).toBe("open");
  });

  it("a GET to a Credentials provider's callback, and Auth.js's error page, send the person to /login instead of answering 500", async () => {
    for (const path of [
      "/api/auth/callback/credentials?email=a%40example.test&password=x",
      "/api/auth/signin/credentials",
      "/api/auth/error?error=Configuration",
    ]) {
      const r = await fetch(`${app.url}${path}`, { redirect: "manual", headers: { "x-forwarded-for": nextIp() } });
      expect(r.status, path).toBe(302);
      expect(new URL(r.headers.get("location") ?? "", app.url).pathname, path).toBe("/login");
      const landing = await fetch(new URL(r.headers.get("location")!, app.url), { headers: { "x-forwarded-for": nextIp() } });
      expect(landing.status, `${path} -> ${r.headers.get("location")}`).toBe(200);
    }
  });

  it("POST /api/auth/callback/passkey with Auth.js's CSRF token is refused: 404, no new session, the old one untouched", async () => {
    const email = await verifiedAccount("callback-passkey");
    const old = await logIn(email);
    const csrf = await csrfFor(old);
    const r = await postForm("/api/auth/callback/passkey", { response: "{}", csrfToken: csrf.token, callbackUrl: "/account" }, `${old}; ${csrf.cookie}`);
    expect(sessionCookieOf(r.headers) !== "", "Auth.js's callback set a session cookie").toBe(false);
    expect(r.status).toBe(404);
    expect(await account(old)).toBe("open");
  });
});
