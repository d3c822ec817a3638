import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { TestStack } from "@/e2e/support/app-server";
import { clientAddresses, httpClient, registerAndVerify, withTestStack, type Reply } from "@/tests/support/http-client";

/**
 * What an outsider's attack pass against the production build found, each replayed as it was sent.
 */

const PASSWORD = "velvet hammock orbit lantern 42";

let stack: TestStack;
withTestStack({ root: process.cwd(), snapshotPrefix: "outsider-app-", readyPath: "/login" }, (started) => {
  stack = started;
});

const nextIp = clientAddresses();
const { post, get } = httpClient(() => stack.app.url, nextIp);
const newEmail = (label: string) => `${label}-${Date.now()}-${randomBytes(3).toString("hex")}@example.test`;

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
    const email = newEmail("dup-cookie");
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
    const r = await post("/api/register", { name: "Ada", email: newEmail("repeat"), password: word.repeat(times) });
    expect(r.status, r.text).toBe(400);
    expect(r.json.error.code).toBe("weak_password");
  });

  it("a digit run with a little added (12345678901234567890abc) answers 400 weak_password", async () => {
    const r = await post("/api/register", { name: "Ada", email: newEmail("run"), password: "12345678901234567890abc" });
    expect(r.status, r.text).toBe(400);
    expect(r.json.error.code).toBe("weak_password");
  });
});
