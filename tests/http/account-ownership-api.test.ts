import { describe, expect, it } from "vitest";
import type { AppServer, TestStack } from "@/testing/services/app-server";
import { extractCode } from "@/testing/mailbox";
import { totpCodeAt } from "@/lib/credentials/totp";
import { clientAddresses, expectErrorShape, httpClient, withTestStack, sessionCookieOf, verifiedAddress } from "@/testing/http-client";

/**
 * A customer's second factor, deleting the account and downloading one's data, over the JSON API against
 * the production build (`next start`): enrolment needs the password and a mailed code, password logins
 * then ask for the app's code; deletion needs both too and leaves nothing that opens or names the account;
 * the export carries no secret.
 */

const ROOT = process.cwd();
const PASSWORD = "velvet hammock orbit lantern 42";
const STEP_MS = 30_000;

let stack: TestStack;
let app: AppServer;

withTestStack({ root: ROOT, snapshotPrefix: "http-account-ownership-", readyPath: "/login" }, (started) => {
  stack = started;
  ({ app } = started);
});

const nextIp = clientAddresses();
const { post, get } = httpClient(() => app.url, nextIp);

const verifiedAccount = async (label: string): Promise<string> => (await verifiedAddress(post, stack.sink, label, PASSWORD)).email;

async function logIn(email: string, totp?: string): Promise<string> {
  const r = await post("/api/login", { email, password: PASSWORD, ...(totp ? { totp } : {}) });
  expect(r.status, r.text).toBe(200);
  return sessionCookieOf(r.headers);
}

/** Asks for a mailed code with `send` and reads it at the sink. */
async function mailedCode(email: string, send: () => Promise<{ status: number; text: string }>): Promise<string> {
  const before = Date.now();
  const r = await send();
  expect(r.status, r.text).toBe(200);
  return extractCode(await stack.sink.waitForMail(email, { after: before - 1 }));
}

describe("a customer's second factor over the API", () => {
  it("enrolment needs the password and the mailed code; then a password login asks for the app's code", async () => {
    const email = await verifiedAccount("totp-http");
    const cookie = await logIn(email);
    expectErrorShape(await post("/api/account/two-factor", { password: "not the password at all, no" }, { cookie }), "invalid_credentials");

    let started: { json: { secret: string; recoveryCodes: string[] } } | undefined;
    const emailCode = await mailedCode(email, async () => (started = await post("/api/account/two-factor", { password: PASSWORD }, { cookie })));
    const { secret, recoveryCodes } = started!.json;
    const stepStart = Date.now();
    expectErrorShape(
      await post(
        "/api/account/two-factor/confirm",
        { code: totpCodeAt(secret, stepStart), emailCode: emailCode === "000000" ? "111111" : "000000" },
        { cookie },
      ),
      "wrong_code",
    );
    expect((await post("/api/login", { email, password: PASSWORD })).status, "a wrong mailed code turned it on").toBe(200);

    const confirmed = await post("/api/account/two-factor/confirm", { code: totpCodeAt(secret, stepStart), emailCode }, { cookie });
    expect(confirmed.status, confirmed.text).toBe(200);

    expectErrorShape(await post("/api/login", { email, password: PASSWORD }), "totp_required");
    expectErrorShape(await post("/api/login", { email, password: PASSWORD, totp: "000000" }), "invalid_credentials");
    // The enrolment spent its time-step; the app's next code (within the one-step window) is accepted.
    await logIn(email, totpCodeAt(secret, stepStart + STEP_MS));
    await logIn(email, recoveryCodes[0]);
  });

  it("is 401 without a session and 403 cross-site", async () => {
    expectErrorShape(await post("/api/account/two-factor", { password: PASSWORD }), "unauthenticated");
    const cookie = await logIn(await verifiedAccount("totp-cross"));
    expectErrorShape(await post("/api/account/two-factor", { password: PASSWORD }, { cookie, headers: { origin: "https://evil.example" } }), "cross_site");
    expectErrorShape(await post("/api/account/delete", { password: PASSWORD }, { cookie, headers: { origin: "https://evil.example" } }), "cross_site");
    expectErrorShape(await get("/api/account/export", { cookie, origin: "https://evil.example" }), "cross_site");
  });
});

describe("deleting the account over the API", () => {
  it("needs the password and the mailed code; then every session is refused (also a second device), the login fails, and a notice is mailed", async () => {
    const email = await verifiedAccount("delete-http");
    const other = await logIn(email);
    const cookie = await logIn(email);
    expectErrorShape(await post("/api/account/delete", { password: "not the password at all, no" }, { cookie }), "invalid_credentials");
    const code = await mailedCode(email, () => post("/api/account/delete", { password: PASSWORD }, { cookie }));
    expectErrorShape(await post("/api/account/delete/confirm", { otp: code === "000000" ? "111111" : "000000" }, { cookie }), "wrong_code");
    expect((await get("/api/account/sessions", { cookie })).status).toBe(200);

    const before = Date.now();
    const deleted = await post("/api/account/delete/confirm", { otp: code }, { cookie });
    expect(deleted.status, deleted.text).toBe(200);
    const notice = await stack.sink.waitForMail(email, { after: before - 1 });
    expect(notice.subject).toMatch(/account was deleted/i);

    for (const c of [cookie, other]) {
      expect((await get("/api/account/sessions", { cookie: c })).status).toBe(401);
      expect((await get("/account", { cookie: c })).status).toBe(307);
    }
    expectErrorShape(await post("/api/login", { email, password: PASSWORD }), "invalid_credentials");
  });
});

describe("downloading one's data over the API", () => {
  it("is a JSON attachment with the profile, sessions and security events, and no hash, secret or recovery code", async () => {
    const email = await verifiedAccount("export-http");
    const before = await logIn(email);
    let started: { json: { secret: string; recoveryCodes: string[] } } | undefined;
    const emailCode = await mailedCode(email, async () => (started = await post("/api/account/two-factor", { password: PASSWORD }, { cookie: before })));
    const { secret, recoveryCodes } = started!.json;
    const confirmed = await post("/api/account/two-factor/confirm", { code: totpCodeAt(secret, Date.now()), emailCode }, { cookie: before });
    expect(confirmed.status).toBe(200);
    // Turning the second factor on ends every session; the one that did it goes on under a renewed cookie.
    const cookie = sessionCookieOf(confirmed.headers);
    expect(cookie, "a renewed session cookie").not.toBe("");

    const r = await get("/api/account/export", { cookie });
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get("content-disposition")).toMatch(/^attachment; filename=/);
    expect(r.json.profile).toMatchObject({ email, name: "Ada Lovelace", role: "customer" });
    expect(r.json.secondFactor).toEqual({ enabled: true, recoveryCodesLeft: 10 });
    expect(r.json.sessions.length).toBeGreaterThanOrEqual(1);
    expect(Array.isArray(r.json.securityEvents)).toBe(true);
    expect(r.text).not.toContain(secret);
    expect(r.text).not.toMatch(/\$argon2|password_?hash|secret_?ciphertext|code_?hash/i);
    for (const code of recoveryCodes) expect(r.text).not.toContain(code);
    expectErrorShape(await get("/api/account/export"), "unauthenticated");
  });
});
