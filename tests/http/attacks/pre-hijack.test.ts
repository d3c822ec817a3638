import { randomBytes } from "node:crypto";
import { createClient } from "@libsql/client";
import { describe, expect, it } from "vitest";
import { extractCode } from "@/testing/mailbox";
import { withRedisClient } from "@/testing/services/redis-client";
import type { TestStack } from "@/testing/services/app-server";
import { clientAddresses, httpClient, withTestStack, type Reply } from "@/testing/http-client";
import { parseConfig } from "@/lib/platform/config";
import { emailId } from "@/lib/codes/limits";
import { uniqueEmail } from "@/testing/people";

/**
 * Account takeover before signup, replayed request by request against the production build: someone who
 * cannot read an inbox registers its address first (or again), and waits for the owner to make the
 * account usable with the attacker's password. Each test is the exact sequence that took an account
 * before unverified signups stopped holding usable credentials (lib/accounts/registrations.ts).
 */

const ROOT = process.cwd();
const AUTH_SECRET = randomBytes(32).toString("base64");
const CRON_SECRET = randomBytes(24).toString("base64url");
const codeConfig = parseConfig({ NODE_ENV: "test", AUTH_SECRET });
const ATTACKER_PASSWORD = "mallory picks this long passphrase 81";
const VICTIM_PASSWORD = "the owner's own harbour lantern phrase 27";
const CHOSEN_PASSWORD = "chosen on the second device, quietly 64";

let stack: TestStack;
withTestStack(
  {
    root: ROOT,
    snapshotPrefix: "attacks-app-",
    readyPath: "/login",
    authSecret: AUTH_SECRET,
    env: { SIGN_IN_BY_CODE: "true", CRON_SECRET, UNVERIFIED_ACCOUNT_RETENTION_DAYS: "7" },
  },
  (started) => {
    stack = started;
  },
);

const nextIp = clientAddresses();
const { post, get } = httpClient(() => stack.app.url, nextIp);
// Each party keeps to its own address, as two people on two networks would.
const attackerIp = "198.51.100.7";
const victimIp = "203.0.113.9";

/** Ends every send cooldown of the address, as if the minute had passed. */
async function minutePasses(email: string): Promise<void> {
  const id = emailId(codeConfig.codes.hmacKey, email);
  await withRedisClient(stack.redis.url, async (client) => {
    const keys = await client.keys(`limit:{${id}}:send:cooldown*`);
    if (keys.length > 0) await client.del(keys);
  });
}

/** A signup over the API; when it mailed a code, that mail has arrived before this returns (so later mail is told apart by time). */
async function register(email: string, name: string, password: string, ip: string): Promise<Reply & { code?: string }> {
  const before = Date.now();
  const r = await post("/api/register", { name, email, password }, { ip });
  expect(r.status, r.text).toBe(201);
  return { ...r, code: r.json.delivery !== "wait" ? await codeAfter(email, before) : undefined };
}

async function codeAfter(email: string, since: number, subject = /verification code/i): Promise<string> {
  return extractCode(await stack.sink.waitForMail(email, { after: since - 1, predicate: (m) => subject.test(m.subject) }));
}

const login = (email: string, password: string, ip = nextIp()) => post("/api/login", { email, password }, { ip });

function sessionCookie(r: Reply): string {
  return r.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .filter((c) => /session-token/.test(c))
    .join("; ");
}

describe("an address registered first by someone who cannot read its inbox", () => {
  it("attacker registers first, the owner registers, asks for a new code and enters it: the owner's password works, the attacker's never does", async () => {
    const email = uniqueEmail("hijack-resend");
    await register(email, "Mallory", ATTACKER_PASSWORD, attackerIp);
    const owner = await register(email, "Ada Owner", VICTIM_PASSWORD, victimIp);
    await minutePasses(email);
    const askedAt = Date.now();
    const resend = await post("/api/resend-otp", { email }, { ip: victimIp });
    expect(resend.status, resend.text).toBe(200);
    const code = await codeAfter(email, askedAt);

    const verified = await post("/api/verify-otp", { email, otp: code, registration: owner.json.registration }, { ip: victimIp });
    expect(verified.status, verified.text).toBe(200);
    expect(verified.json.user.name).toBe("Ada Owner");
    expect((await login(email, VICTIM_PASSWORD)).status).toBe(200);
    expect((await login(email, ATTACKER_PASSWORD, attackerIp)).status).toBe(401);
  });

  it("the attacker cannot poll the pending signup: a right password on an unverified account counts on the login limits", async () => {
    const email = uniqueEmail("hijack-poll");
    await register(email, "Mallory", ATTACKER_PASSWORD, attackerIp);
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await login(email, ATTACKER_PASSWORD, attackerIp)).status);
    expect(statuses.filter((s) => s === 403).length, statuses.join(" ")).toBeLessThan(15);
    expect(statuses, statuses.join(" ")).toContain(429);
  });

  it("attacker registers first, the owner registers and enters the code from the first mail (the attacker's signup): the owner's details apply", async () => {
    const email = uniqueEmail("hijack-first-mail");
    const { code: firstCode } = await register(email, "Mallory", ATTACKER_PASSWORD, attackerIp);
    const owner = await register(email, "Ada Owner", VICTIM_PASSWORD, victimIp);

    expect(firstCode).toBeDefined();
    const verified = await post("/api/verify-otp", { email, otp: firstCode, registration: owner.json.registration }, { ip: victimIp });
    expect(verified.status, verified.text).toBe(200);
    expect((await login(email, ATTACKER_PASSWORD, attackerIp)).status).toBe(401);
    expect((await login(email, VICTIM_PASSWORD)).status).toBe(200);
  });

  it("attacker registers first, the owner never did and enters the mailed code: the owner is asked for a name and password, and the attacker's never works", async () => {
    const email = uniqueEmail("hijack-stranger");
    const { code } = await register(email, "Mallory", ATTACKER_PASSWORD, attackerIp);

    const bare = await post("/api/verify-otp", { email, otp: code }, { ip: victimIp });
    expect(bare.status, bare.text).toBe(400);
    expect(bare.json.error.code).toBe("choose_password");
    const chosen = await post("/api/verify-otp", { email, otp: code, name: "Ada Owner", password: CHOSEN_PASSWORD }, { ip: victimIp });
    expect(chosen.status, chosen.text).toBe(200);
    expect(chosen.json.signedIn).toBe(true);
    expect(sessionCookie(chosen), "signed in with the password just chosen").not.toBe("");
    expect((await login(email, ATTACKER_PASSWORD, attackerIp)).status).toBe(401);
    expect((await login(email, CHOSEN_PASSWORD)).status).toBe(200);
  });

  it("the owner registers first, the attacker registers again, the owner enters the newest code: the owner's password works, the attacker's does not", async () => {
    const email = uniqueEmail("hijack-second");
    const owner = await register(email, "Ada Owner", VICTIM_PASSWORD, victimIp);
    await minutePasses(email);
    const { code: newest } = await register(email, "Mallory", ATTACKER_PASSWORD, attackerIp);

    const verified = await post("/api/verify-otp", { email, otp: newest, registration: owner.json.registration }, { ip: victimIp });
    expect(verified.status, verified.text).toBe(200);
    expect((await login(email, VICTIM_PASSWORD)).status).toBe(200);
    expect((await login(email, ATTACKER_PASSWORD, attackerIp)).status).toBe(401);
  });

  it("the attacker's own registration token does not let a stolen or guessed code apply someone else's signup: a token is bound to its address", async () => {
    const attackerAddress = uniqueEmail("hijack-own");
    const email = uniqueEmail("hijack-target");
    const attacker = await register(attackerAddress, "Mallory", ATTACKER_PASSWORD, attackerIp);
    const { code } = await register(email, "Ada Owner", VICTIM_PASSWORD, victimIp);
    const r = await post("/api/verify-otp", { email, otp: code, registration: attacker.json.registration }, { ip: attackerIp });
    expect(r.status, r.text).toBe(400);
    expect(r.json.error.code).toBe("choose_password");
  });

  it("attacker registers first, the owner signs in by code: signed in to an account with no password, the attacker's password never works, and the owner then chooses one", async () => {
    const email = uniqueEmail("hijack-code-sign-in");
    await register(email, "Mallory", ATTACKER_PASSWORD, attackerIp);
    await minutePasses(email);
    const askedAt = Date.now();
    const asked = await post("/api/login-code", { email }, { ip: victimIp });
    expect(asked.status, asked.text).toBe(200);
    const code = await codeAfter(email, askedAt);
    const signedIn = await post("/api/login-code/verify", { email, otp: code }, { ip: victimIp });
    expect(signedIn.status, signedIn.text).toBe(200);
    const cookie = sessionCookie(signedIn);
    expect(cookie).not.toBe("");

    expect((await login(email, ATTACKER_PASSWORD, attackerIp)).status).toBe(401);
    const page = await get("/account", { cookie, "x-forwarded-for": victimIp });
    expect(page.status).toBe(200);
    expect(page.text).toContain("Choose a password");

    const chosen = await post("/api/account/password", { newPassword: CHOSEN_PASSWORD }, { ip: victimIp, cookie, headers: { origin: stack.app.url } });
    expect(chosen.status, chosen.text).toBe(200);
    expect((await login(email, CHOSEN_PASSWORD)).status).toBe(200);
    expect((await login(email, ATTACKER_PASSWORD, attackerIp)).status).toBe(401);
  });

  it("an account with a password cannot drop the current-password check by leaving the field out", async () => {
    const email = uniqueEmail("hijack-current");
    const owner = await register(email, "Ada Owner", VICTIM_PASSWORD, victimIp);
    expect((await post("/api/verify-otp", { email, otp: owner.code, registration: owner.json.registration }, { ip: victimIp })).status).toBe(200);
    const cookie = sessionCookie(await login(email, VICTIM_PASSWORD, victimIp));
    const r = await post("/api/account/password", { newPassword: CHOSEN_PASSWORD }, { ip: victimIp, cookie, headers: { origin: stack.app.url } });
    expect(r.status, r.text).toBe(401);
    expect((await login(email, VICTIM_PASSWORD)).status).toBe(200);
  });
});

describe("a code you were told is coming comes", () => {
  it("right after verifying, a password reset asked for within the minute is mailed", async () => {
    const email = uniqueEmail("cooldown-purpose");
    const owner = await register(email, "Ada Owner", VICTIM_PASSWORD, victimIp);
    expect((await post("/api/verify-otp", { email, otp: owner.code, registration: owner.json.registration }, { ip: victimIp })).status).toBe(200);
    const askedAt = Date.now();
    const reset = await post("/api/password-reset", { email }, { ip: victimIp });
    expect(reset.status, reset.text).toBe(200);
    await codeAfter(email, askedAt, /password reset code/i);
  });

  it("a reset refused by the cooldown says so with Retry-After, exactly as for an address without an account", async () => {
    const known = uniqueEmail("cooldown-known");
    const owner = await register(known, "Ada Owner", VICTIM_PASSWORD, victimIp);
    expect((await post("/api/verify-otp", { email: known, otp: owner.code, registration: owner.json.registration })).status).toBe(200);
    const unknown = uniqueEmail("cooldown-nobody");
    for (const email of [known, unknown]) {
      expect((await post("/api/password-reset", { email })).status).toBe(200);
      const again = await post("/api/password-reset", { email });
      expect(again.status, `${email}: ${again.text}`).toBe(429);
      expect(Number(again.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(again.json.error.code).toBe("rate_limited");
    }
  });
});

describe("the nightly cleanup", () => {
  it("spares an old unverified account whose owner just asked for a code, and the code then works", async () => {
    const email = uniqueEmail("cleanup-spared");
    const owner = await register(email, "Ada Owner", VICTIM_PASSWORD, victimIp);
    // The signup was eight days ago (past the seven-day retention).
    const eightDaysAgo = Date.now() - 8 * 24 * 3600 * 1000;
    const db = createClient({ url: stack.databaseUrl });
    try {
      await db.execute({ sql: "UPDATE users SET created_at = ?, updated_at = ? WHERE email = ?", args: [eightDaysAgo, eightDaysAgo, email] });
    } finally {
      db.close();
    }
    await minutePasses(email);
    const askedAt = Date.now();
    expect((await post("/api/resend-otp", { email }, { ip: victimIp })).status).toBe(200);
    const code = await codeAfter(email, askedAt);

    const cleanup = await get("/api/cron/cleanup", { authorization: `Bearer ${CRON_SECRET}` });
    expect(cleanup.status, cleanup.text).toBe(200);
    // The registration token outlives a day only as long as its signup; this one is fresh.
    const verified = await post("/api/verify-otp", { email, otp: code, registration: owner.json.registration }, { ip: victimIp });
    expect(verified.status, verified.text).toBe(200);
  });
});

describe("the per-IP login limit", () => {
  it("80 parallel logins from one address have at most the limit's 30 passwords checked; the rest are refused before any hash", async () => {
    const ip = "192.0.2.80";
    const replies = await Promise.all(Array.from({ length: 80 }, (_, i) => login(uniqueEmail(`spray-${i}`), ATTACKER_PASSWORD, ip)));
    const checked = replies.filter((r) => r.status === 401).length;
    const refused = replies.filter((r) => r.status === 429).length;
    expect(checked + refused, replies.map((r) => r.status).join(" ")).toBe(80);
    expect(checked).toBeLessThanOrEqual(30);
  });
});
