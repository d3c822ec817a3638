import { describe, expect, it } from "vitest";
import type { AppServer, TestStack } from "@/testing/services/app-server";
import { withRedisClient } from "@/testing/services/redis-client";
import { clientAddresses, expectErrorShape, httpClient, reply, withTestStack, type Reply, sessionCookieOf, verifiedAddress } from "@/testing/http-client";

/**
 * The owner's sessions over the JSON API, against the production build (`next start`) with its own Redis:
 * GET /api/account/sessions, DELETE /api/account/sessions/:id, POST /api/account/sessions/revoke-others.
 * An ended session stays ended after Redis loses its data (FLUSHALL). Ending another device's session takes the
 * password again (ASVS 7.5.2), so a stolen session cannot sign its owner out everywhere else.
 */

const ROOT = process.cwd();
const PASSWORD = "velvet hammock orbit lantern 42";
const FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0";
const CHROME_ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";

let stack: TestStack;
let app: AppServer;

withTestStack({ root: ROOT, snapshotPrefix: "http-account-sessions-", readyPath: "/login" }, (started) => {
  stack = started;
  ({ app } = started);
});

const nextIp = clientAddresses();
const { post, get } = httpClient(() => app.url, nextIp);
const flushRedis = () => withRedisClient(stack.redis.url, (client) => client.flushAll());

const verifiedAccount = async (label: string): Promise<string> => (await verifiedAddress(post, stack.sink, label, PASSWORD)).email;

async function logIn(email: string, userAgent = FIREFOX_MAC, ip = "198.51.100.77"): Promise<string> {
  const r = await post("/api/login", { email, password: PASSWORD }, { headers: { "user-agent": userAgent }, ip });
  expect(r.status, r.text).toBe(200);
  return sessionCookieOf(r.headers);
}

const list = (cookie: string, headers: Record<string, string> = {}) => get("/api/account/sessions", { cookie, ...headers });

/** DELETE /api/account/sessions/:id, with `body` as JSON when given. */
async function del(id: string, cookie: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return reply(
    await fetch(`${app.url}/api/account/sessions/${encodeURIComponent(id)}`, {
      method: "DELETE",
      headers: { cookie, "x-forwarded-for": nextIp(), ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: "manual",
    }),
  );
}

const withPassword = { password: PASSWORD };
const revokeOthers = (cookie: string, body: unknown, headers: Record<string, string> = {}) =>
  post("/api/account/sessions/revoke-others", body, { cookie, headers });

describe("GET /api/account/sessions", () => {
  it("lists the signed-in sessions: browser and system from the user agent, times, the truncated network, this one marked current", async () => {
    const email = await verifiedAccount("sessions-list");
    await logIn(email, CHROME_ANDROID, "203.0.113.9");
    const mine = await logIn(email, FIREFOX_MAC, "198.51.100.77");
    const r = await list(mine);
    expect(r.status, r.text).toBe(200);
    expect(r.json.sessions).toHaveLength(2);
    const [current, other] = r.json.sessions;
    expect(current).toMatchObject({ browser: "Firefox 133", system: "macOS", network: "198.51.100.0/24", current: true });
    expect(other).toMatchObject({ browser: "Chrome 131", system: "Android", network: "203.0.113.0/24", current: false });
    for (const s of r.json.sessions) expect(Object.keys(s).sort()).toEqual(["browser", "current", "id", "lastActiveAt", "network", "signedInAt", "system"]);
    expect(r.text).not.toMatch(/198\.51\.100\.77|203\.0\.113\.9|Mozilla/);
  });

  it("is 401 without a session and 403 for a cross-site request", async () => {
    expectErrorShape(await list(""), "unauthenticated");
    const mine = await logIn(await verifiedAccount("sessions-cross"));
    expectErrorShape(await list(mine, { origin: "https://evil.example" }), "cross_site");
    expectErrorShape(await del("x", mine, withPassword, { origin: "https://evil.example" }), "cross_site");
    expectErrorShape(await revokeOthers(mine, withPassword, { origin: "https://evil.example" }), "cross_site");
    expect((await list(mine)).json.sessions).toHaveLength(1);
  });

  it("after a change of password lists only the session that made it (the others ended by the version bump)", async () => {
    const email = await verifiedAccount("sessions-bump");
    await logIn(email, CHROME_ANDROID);
    const mine = await logIn(email);
    const changed = await post("/api/account/password", { currentPassword: PASSWORD, newPassword: "a wholly new passphrase for tests 7" }, { cookie: mine });
    expect(changed.status, changed.text).toBe(200);
    const renewed = sessionCookieOf(changed.headers) || mine;
    const r = await list(renewed);
    expect(r.status, r.text).toBe(200);
    expect(r.json.sessions.map((s: { current: boolean }) => s.current)).toEqual([true]);
  });
});

describe("ending sessions over the API", () => {
  it("DELETE /api/account/sessions/:id ends that session: its cookie is refused, also after FLUSHALL; this one carries on", async () => {
    const email = await verifiedAccount("sessions-end-one");
    const other = await logIn(email, CHROME_ANDROID);
    const mine = await logIn(email);
    const otherId = (await list(mine)).json.sessions.find((s: { current: boolean }) => !s.current).id;
    const r = await del(otherId, mine, withPassword);
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ ok: true, current: false });
    expect((await list(other)).status).toBe(401);
    await flushRedis();
    expect((await list(other)).status, "the ended session came back after FLUSHALL").toBe(401);
    expect((await get("/account", { cookie: other })).status).toBe(307);
    const after = await list(mine);
    expect(after.status).toBe(200);
    expect(after.json.sessions.map((s: { id: string }) => s.id)).not.toContain(otherId);
    expectErrorShape(await del(otherId, mine, withPassword), "not_found");
  });

  it("DELETE of another person's session id is 404 and ends nothing", async () => {
    const theirs = await logIn(await verifiedAccount("sessions-theirs"));
    const theirId = (await list(theirs)).json.sessions[0].id;
    const mine = await logIn(await verifiedAccount("sessions-mine"));
    expectErrorShape(await del(theirId, mine, withPassword), "not_found");
    expect((await list(theirs)).status).toBe(200);
  });

  it("POST /api/account/sessions/revoke-others ends every other session, they stay ended after FLUSHALL, and this one carries on", async () => {
    const email = await verifiedAccount("sessions-revoke");
    const others = [await logIn(email, CHROME_ANDROID), await logIn(email, CHROME_ANDROID)];
    const mine = await logIn(email);
    const r = await revokeOthers(mine, withPassword);
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ ok: true, ended: 2 });
    await flushRedis();
    for (const cookie of others) expect((await list(cookie)).status, "an ended session came back after FLUSHALL").toBe(401);
    const after = await list(mine);
    expect(after.status).toBe(200);
    expect(after.json.sessions).toHaveLength(1);
  });

  it("with the cookie's name repeated (this session first, an ended one of the same person after), this session is the one marked current and kept", async () => {
    const email = await verifiedAccount("sessions-repeated-cookie");
    const ended = await logIn(email, CHROME_ANDROID);
    const endedId = (await list(ended)).json.sessions.find((s: { current: boolean }) => s.current).id;
    expect((await del(endedId, ended)).status).toBe(200);
    const other = await logIn(email, CHROME_ANDROID);
    const mine = await logIn(email);
    const both = `${mine}; ${ended}`;
    const listed = await list(both);
    expect(listed.status, listed.text).toBe(200);
    expect(listed.json.sessions.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    const r = await revokeOthers(both, withPassword);
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ ok: true, ended: 1 });
    expect((await list(other)).status).toBe(401);
    expect((await list(mine)).status, "the session that asked was ended").toBe(200);
  });

  it("revoke-others accepts only application/json (a cross-site form cannot send it)", async () => {
    const mine = await logIn(await verifiedAccount("sessions-form"));
    const r = await post("/api/account/sessions/revoke-others", null, {
      cookie: mine,
      raw: "",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(r.status).toBe(415);
  });
});
