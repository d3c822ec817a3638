import { describe, expect, it } from "vitest";
import type { TestStack } from "@/testing/services/app-server";
import { withRedisClient } from "@/testing/services/redis-client";
import { clientAddresses, httpClient, registerAndVerify, withTestStack, type Reply } from "@/testing/http-client";
import { uniqueEmail } from "@/testing/people";

/**
 * Attacks an outside attack pass sent to the production build, each replayed as it was sent: a login Cookie header
 * repeating the session cookie, common words repeated into a password, code checks and delivery states that would
 * tell about an address, and an unverified signup holding an address against its owner.
 */

const PASSWORD = "velvet hammock orbit lantern 42";

let stack: TestStack;
withTestStack({ root: process.cwd(), snapshotPrefix: "outsider-app-", readyPath: "/login" }, (started) => {
  stack = started;
});

const nextIp = clientAddresses();
const { post, get } = httpClient(() => stack.app.url, nextIp);
function sessionValue(r: Reply): string {
  const cookie = r.headers.getSetCookie().find((c) => /^authjs\.session-token=/.test(c));
  expect(cookie, "a session cookie").toBeDefined();
  return cookie!.split(";")[0]!.slice("authjs.session-token=".length);
}

async function opensAccount(token: string): Promise<boolean> {
  const r = await get("/account", { cookie: `authjs.session-token=${token}` });
  return r.status === 200;
}

describe("a login ends the session the request came with, however the Cookie header repeats it", () => {
  it("Cookie: authjs.session-token=OLD; authjs.session-token=x on a new login still ends OLD", async () => {
    const email = uniqueEmail("dup-cookie");
    await registerAndVerify(post, stack.sink, { email, password: PASSWORD });
    const old = sessionValue(await post("/api/login", { email, password: PASSWORD }));
    expect(await opensAccount(old), "the first session works").toBe(true);

    const again = await post("/api/login", { email, password: PASSWORD }, { cookie: `authjs.session-token=${old}; authjs.session-token=x` });
    expect(again.status, again.text).toBe(200);
    expect(await opensAccount(old), "the replaced session is ended").toBe(false);
    expect(await opensAccount(sessionValue(again)), "the new session works").toBe(true);
  });
});

describe("the password rules refuse a common word repeated any number of times", () => {
  it.each([
    ["password", 5],
    ["password ", 5],
    ["123456", 5],
    ["iloveyou", 5],
    ["monkey", 6],
    ["abc", 6],
  ])("POST /api/register with %j repeated %i times answers 400 weak_password", async (word, times) => {
    const r = await post("/api/register", { name: "Ada", email: uniqueEmail("repeat"), password: word.repeat(times) });
    expect(r.status, r.text).toBe(400);
    expect(r.json.error.code).toBe("weak_password");
  });

  it("a digit run with a little added (12345678901234567890abc) answers 400 weak_password", async () => {
    const r = await post("/api/register", { name: "Ada", email: uniqueEmail("run"), password: "12345678901234567890abc" });
    expect(r.status, r.text).toBe(400);
    expect(r.json.error.code).toBe("weak_password");
  });
});

/** Ends every send cooldown of the address, as if the minute had passed. */
async function minutePasses(): Promise<void> {
  await withRedisClient(stack.redis.url, async (client) => {
    const keys = await client.keys("limit:{*}:send:cooldown*");
    if (keys.length > 0) await client.del(keys);
  });
}

describe("code checks tell nothing about whether an address was verified or signed up", () => {
  const CHOSEN = { name: "Zed", password: "another long passphrase here" };

  it("a code with a chosen name and password answers a recently verified address exactly like an unknown one", async () => {
    const verified = uniqueEmail("oracle-verified");
    await registerAndVerify(post, stack.sink, { email: verified, password: PASSWORD });
    const unknown = uniqueEmail("oracle-unknown");
    const answers = [];
    for (const email of [verified, unknown]) {
      const r = await post("/api/verify-otp", { email, otp: "123456", ...CHOSEN });
      answers.push(`${r.status} ${r.json?.error?.code}`);
    }
    expect(answers[0]).toBe(answers[1]);
  });

  it("after a new code is asked for, five wrong codes answer alike for a verified, an unverified and an unknown address", async () => {
    const verified = uniqueEmail("tries-verified");
    await registerAndVerify(post, stack.sink, { email: verified, password: PASSWORD });
    const unverified = uniqueEmail("tries-unverified");
    expect((await post("/api/register", { name: "Ada", email: unverified, password: PASSWORD })).status).toBe(201);
    const unknown = uniqueEmail("tries-unknown");
    await minutePasses();
    const seen: Record<string, string[]> = {};
    for (const email of [verified, unverified, unknown]) {
      expect((await post("/api/resend-otp", { email })).status).toBe(200);
      seen[email] = [];
      for (let i = 0; i < 6; i++) {
        const r = await post("/api/verify-otp", { email, otp: String(100_000 + i), ...CHOSEN });
        seen[email]!.push(`${r.status} ${r.json?.error?.code}`);
      }
    }
    expect(seen[unverified]).toContain("410 too_many_attempts");
    expect(seen[verified]).toEqual(seen[unverified]);
    expect(seen[unknown]).toEqual(seen[unverified]);
  });
});

describe("an unverified signup cannot hold an address against the person who proves its inbox", () => {
  async function signedIn(email: string): Promise<string> {
    await registerAndVerify(post, stack.sink, { email, password: PASSWORD });
    const r = await post("/api/login", { email, password: PASSWORD });
    return `authjs.session-token=${sessionValue(r)}`;
  }

  it("an address registered (and never verified) by someone else before the change gets a code, and proving it moves the account there", async () => {
    const mine = uniqueEmail("move-from");
    const target = uniqueEmail("squatted");
    const cookie = await signedIn(mine);
    expect((await post("/api/register", { name: "Squatter", email: target, password: "squatter's own long passphrase 9" })).status).toBe(201);
    await minutePasses();
    const askedAt = Date.now();
    const asked = await post("/api/account/email", { newEmail: target, password: PASSWORD }, { cookie, headers: { origin: stack.app.url } });
    expect(asked.status, asked.text).toBe(200);
    const mail = await stack.sink.waitForMail(target, { after: askedAt - 1, predicate: (m) => /new address/i.test(m.subject) });
    const code = mail.text.match(/\b(\d{6})\b/)?.[1];
    expect(code, `a code, not a notice ("${mail.subject}")`).toBeDefined();
    const done = await post("/api/account/email/verify", { otp: code }, { cookie, headers: { origin: stack.app.url } });
    expect(done.status, done.text).toBe(200);
    expect((await post("/api/login", { email: target, password: PASSWORD })).status).toBe(200);
  });

  it("an address registered by someone else after the code was sent is taken over on proof, not refused", async () => {
    const mine = uniqueEmail("move-from-late");
    const target = uniqueEmail("squatted-late");
    const cookie = await signedIn(mine);
    await minutePasses();
    const askedAt = Date.now();
    expect((await post("/api/account/email", { newEmail: target, password: PASSWORD }, { cookie, headers: { origin: stack.app.url } })).status).toBe(200);
    const code = (await stack.sink.waitForMail(target, { after: askedAt - 1, predicate: (m) => /new address/i.test(m.subject) })).text.match(
      /\b(\d{6})\b/,
    )?.[1];
    expect((await post("/api/register", { name: "Squatter", email: target, password: "squatter's own long passphrase 9" })).status).toBe(201);
    const done = await post("/api/account/email/verify", { otp: code }, { cookie, headers: { origin: stack.app.url } });
    expect(done.status, done.text).toBe(200);
  });
});

describe("what strangers can read about an address's mail and pages", () => {
  it("GET /api/delivery answers only the purposes anyone may ask for: an owner's second factor, deletion or email change is refused for everyone", async () => {
    const email = uniqueEmail("delivery-owner");
    for (const purpose of ["enable_totp", "delete_account", "change_email"]) {
      const r = await get(`/api/delivery?email=${encodeURIComponent(email)}&purpose=${purpose}`);
      expect(r.status, `${purpose}: ${r.text}`).toBe(400);
      expect(r.json.error.code).toBe("invalid_input");
    }
    expect((await get(`/api/delivery?email=${encodeURIComponent(email)}&purpose=verify_email`)).status).toBe(200);
  });

  it.each(["/register", "/login", "/forgot-password"])(
    "GET %s as a client-side navigation (RSC: 1) is kept apart from the page by a shared cache (Vary: rsc), or not cacheable at all",
    async (path) => {
      const r = await get(path, { rsc: "1" });
      const cache = r.headers.get("cache-control") ?? "";
      const vary = (r.headers.get("vary") ?? "").toLowerCase().split(/\s*,\s*/);
      if (/public|s-maxage/.test(cache)) expect(vary, `${path}: ${r.status} ${cache}`).toContain("rsc");
      const page = await get(path);
      if (/public|s-maxage/.test(page.headers.get("cache-control") ?? "")) {
        expect((page.headers.get("vary") ?? "").toLowerCase().split(/\s*,\s*/), `${path}: the HTML answer varies on rsc too`).toContain("rsc");
      }
    },
  );
});
