import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AppServer, TestStack } from "@/testing/services/app-server";
import { clientAddresses, expectErrorShape, httpClient, reply, sessionCookieOf, verifiedAddress, withTestStack, type Reply } from "@/testing/http-client";

/**
 * Someone holding a copy of a person's session cookie (a shared computer, a stolen laptop, a leaked cookie)
 * tries to sign the owner out everywhere else over the JSON API, so that the owner's own devices lose access
 * while the copy stays in. Ending another device's session must take the owner's password typed again
 * (ASVS 7.5.2), and wrong guesses at it must count on the login limits like any login.
 */

const PASSWORD = "velvet hammock orbit lantern 42";

let stack: TestStack;
let app: AppServer;

withTestStack({ root: process.cwd(), snapshotPrefix: "attack-stolen-session-", readyPath: "/login" }, (started) => {
  stack = started;
  ({ app } = started);
});

const nextIp = clientAddresses();
const { post, get } = httpClient(() => app.url, nextIp);

async function logIn(email: string, password = PASSWORD): Promise<string> {
  const r = await post("/api/login", { email, password });
  expect(r.status, r.text).toBe(200);
  return sessionCookieOf(r.headers);
}

async function endSession(id: string, cookie: string, init: { body?: string; contentType?: string } = {}): Promise<Reply> {
  return reply(
    await fetch(`${app.url}/api/account/sessions/${encodeURIComponent(id)}`, {
      method: "DELETE",
      headers: { cookie, "x-forwarded-for": nextIp(), ...(init.contentType ? { "content-type": init.contentType } : {}) },
      body: init.body,
      redirect: "manual",
    }),
  );
}

/** The id Next gave a server action in this build (the same build the stack runs a copy of). */
function serverActionId(exportedName: string): string {
  const manifest = JSON.parse(readFileSync(join(process.cwd(), ".next/server/server-reference-manifest.json"), "utf8"));
  const found = Object.entries(manifest.node as Record<string, { exportedName?: string }>).find(([, entry]) => entry.exportedName === exportedName);
  if (!found) throw new Error(`no server action ${exportedName} in this build`);
  return found[0];
}

const stillSignedIn = async (cookie: string) => (await get("/api/account/sessions", { cookie })).status === 200;

/** The owner's phone and the thief's copy of the owner's laptop session; the thief knows the phone's session id from the list. */
async function ownerAndThief(label: string) {
  const email = (await verifiedAddress(post, stack.sink, label, PASSWORD)).email;
  const phone = await logIn(email);
  const stolen = await logIn(email);
  const listed = (await get("/api/account/sessions", { cookie: stolen })).json.sessions as Array<{ id: string; current: boolean }>;
  const phoneId = listed.find((s) => !s.current)!.id;
  return { email, phone, stolen, phoneId };
}

describe("a stolen session cannot sign the owner out of their other devices", () => {
  it("DELETE of the owner's other session, with no body, an empty object or a wrong password, ends nothing", async () => {
    const { phone, stolen, phoneId } = await ownerAndThief("stolen-delete");
    expect((await endSession(phoneId, stolen)).status).toBe(415);
    const empty = await endSession(phoneId, stolen, { body: "{}", contentType: "application/json" });
    expectErrorShape(empty, "invalid_input");
    const wrong = await endSession(phoneId, stolen, { body: JSON.stringify({ password: "a guess at it" }), contentType: "application/json" });
    expect(wrong.status, wrong.text).toBe(401);
    expectErrorShape(wrong, "invalid_credentials");
    expect(await stillSignedIn(phone), "the owner's phone was signed out by the stolen session").toBe(true);
  });

  it("revoke-others with an empty object or a wrong password ends nothing", async () => {
    const { phone, stolen } = await ownerAndThief("stolen-revoke");
    expectErrorShape(await post("/api/account/sessions/revoke-others", {}, { cookie: stolen }), "invalid_input");
    const wrong = await post("/api/account/sessions/revoke-others", { password: "a guess at it" }, { cookie: stolen });
    expect(wrong.status, wrong.text).toBe(401);
    expectErrorShape(wrong, "invalid_credentials");
    expect(await stillSignedIn(phone), "the owner's phone was signed out by the stolen session").toBe(true);
  });

  it("guesses at the password here count on the account's login limits: after ten, even the right one waits", async () => {
    const { email, phone, stolen } = await ownerAndThief("stolen-guessing");
    for (let guess = 0; guess < 10; guess++) {
      const r = await post("/api/account/sessions/revoke-others", { password: `guess number ${guess}` }, { cookie: stolen });
      expect(r.status, r.text).toBe(401);
    }
    const right = await post("/api/account/sessions/revoke-others", { password: PASSWORD }, { cookie: stolen });
    expect(right.status, right.text).toBe(429);
    expectErrorShape(right, "rate_limited");
    expect(await stillSignedIn(phone)).toBe(true);
    expect((await post("/api/login", { email, password: PASSWORD })).status, "the login limits are the same ones").toBe(429);
  });

  it("the owner, with the password, ends the other session; ending the one in use is a logout and needs none", async () => {
    const { phone, stolen, phoneId } = await ownerAndThief("owner-ends");
    const ended = await endSession(phoneId, stolen, { body: JSON.stringify({ password: PASSWORD }), contentType: "application/json" });
    expect(ended.status, ended.text).toBe(200);
    expect(await stillSignedIn(phone)).toBe(false);
    const ownId = ((await get("/api/account/sessions", { cookie: stolen })).json.sessions as Array<{ id: string }>)[0]!.id;
    const logout = await endSession(ownId, stolen);
    expect(logout.status, logout.text).toBe(200);
    expect(logout.json).toEqual({ ok: true, current: true });
    expect(await stillSignedIn(stolen)).toBe(false);
  });

  it("the end-session server action, called with arguments that are not a form, refuses without a 500 and ends nothing", async () => {
    const { phone, stolen } = await ownerAndThief("stolen-action-arguments");
    const r = await fetch(`${app.url}/account`, {
      method: "POST",
      headers: {
        cookie: stolen,
        "next-action": serverActionId("endSessionAction"),
        origin: app.url,
        "content-type": "text/plain;charset=UTF-8",
        "x-forwarded-for": nextIp(),
      },
      body: JSON.stringify([{ ok: false }, { sessionId: "others" }]),
      redirect: "manual",
    });
    const text = await r.text();
    expect(r.status, text.slice(0, 300)).toBe(200);
    expect(text).toContain("invalid_input");
    expect(await stillSignedIn(phone)).toBe(true);
  });
});
