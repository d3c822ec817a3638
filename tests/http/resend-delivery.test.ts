import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack, type TestStack } from "@/testing/services/app-server";
import { extractCode } from "@/testing/mailbox";
import { startResendStub, type ResendStub } from "@/testing/services/resend-stub";
import { clientAddresses, httpClient } from "@/testing/http-client";

/**
 * Mail through the delivery queue against a Resend stand-in that refuses as Resend does (2 requests a second,
 * 429 with retry-after above that, 403 for a sending domain that is not verified), on the production build.
 */

const ROOT = process.cwd();
const PASSWORD = "velvet hammock orbit lantern 42";
const API_KEY = `re_test_${randomBytes(12).toString("hex")}`;
const SENDING_DOMAIN = "mail-delivery.example.test";

let stub: ResendStub;
let stack: TestStack;

beforeAll(async () => {
  stub = await startResendStub({ ratePerSecond: 2 });
  stack = await startTestStack({
    root: ROOT,
    snapshotPrefix: "mail-delivery-app-",
    readyPath: "/login",
    env: { RESEND_API_KEY: API_KEY, RESEND_BASE_URL: stub.baseUrl, MAIL_FROM: `Verified Signup <no-reply@${SENDING_DOMAIN}>`, MAIL_RATE_PER_SECOND: "2" },
  });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  await stub?.stop();
}, 30_000);

const nextIp = clientAddresses();
const { post, get } = httpClient(() => stack.app.url, nextIp);
const address = (label: string, n = 0) => `${label}-${n}-${randomBytes(3).toString("hex")}@example.test`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function deliveryOf(email: string): Promise<string> {
  const r = await get(`/api/delivery?email=${encodeURIComponent(email)}`);
  expect(r.status, r.text).toBe(200);
  return r.json.delivery;
}

async function waitForDelivery(email: string, wanted: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    last = await deliveryOf(email);
    if (last === wanted) return;
    await sleep(200);
  }
  throw new Error(`delivery of ${email} stayed ${last}, never ${wanted}`);
}

describe("the delivery queue against Resend's rate limit", () => {
  it("40 signups within about 4 seconds against 2 a second: every register answers 201, every code arrives once, in the order they were queued", async () => {
    const people = Array.from({ length: 40 }, (_, n) => ({ name: "Ada Lovelace", email: address("burst", n), password: PASSWORD }));
    const answers: Array<{ status: number; delivery: string; registration: string }> = [];
    const started = Date.now();
    for (const [n, person] of people.entries()) {
      // One every 100 ms, each answered before the next: the order they were queued in is the order of this list.
      await sleep(Math.max(0, started + n * 100 - Date.now()));
      const r = await post("/api/register", person);
      answers.push({ status: r.status, delivery: r.json?.delivery, registration: r.json?.registration });
    }
    expect(answers.map((a) => a.status)).toEqual(people.map(() => 201));
    expect(answers.every((a) => a.delivery === "sending" || a.delivery === "sent")).toBe(true);

    const wanted = new Set(people.map((p) => p.email));
    const deadline = Date.now() + 90_000;
    while (stub.accepted().filter((m) => wanted.has(m.to)).length < people.length && Date.now() < deadline) await sleep(250);
    const delivered = stub.accepted().filter((m) => wanted.has(m.to));
    expect(delivered.map((m) => m.to)).toEqual(people.map((p) => p.email));

    // Paced: never more than 2 accepted within a second (the stand-in refuses beyond that), so 40 took at least 19.5 s.
    for (const [i, mail] of delivered.entries()) {
      if (i >= 2) expect(mail.at - delivered[i - 2]!.at).toBeGreaterThanOrEqual(1_000);
    }
    // Every code works, with the registration token its signup got.
    for (const [n, person] of people.entries()) {
      const code = extractCode(delivered[n]!);
      const verified = await post("/api/verify-otp", { email: person.email, otp: code, registration: answers[n]!.registration });
      expect(verified.status, verified.text).toBe(200);
    }
    for (const person of people.slice(0, 3)) expect(await deliveryOf(person.email)).toBe("sent");
    // Nothing more arrives later (no message twice).
    await sleep(1_500);
    expect(stub.accepted().filter((m) => wanted.has(m.to))).toHaveLength(people.length);
  }, 180_000);

  it("answers the same shape for an address nobody asked about, and refuses a malformed one", async () => {
    expect(await get(`/api/delivery?email=${encodeURIComponent(address("nobody"))}`)).toMatchObject({
      status: 200,
      json: { purpose: "verify_email", delivery: "none" },
    });
    expect((await get("/api/delivery?email=not-an-address")).status).toBe(400);
    expect((await get(`/api/delivery?email=${encodeURIComponent(address("x"))}&purpose=nonsense`)).status).toBe(400);
  });

  it("a resend for an address without an account moves its delivery state like a real one (sending, then sent)", async () => {
    const nobody = address("no-account");
    const r = await post("/api/resend-otp", { email: nobody });
    expect(r.status, r.text).toBe(200);
    await waitForDelivery(nobody, "sent");
    expect(stub.accepted().some((m) => m.to === nobody)).toBe(false);
  });
});

describe("two instances sharing one code store", () => {
  let second: TestStack;
  beforeAll(async () => {
    second = await startTestStack({
      root: ROOT,
      snapshotPrefix: "mail-delivery-second-",
      readyPath: "/login",
      authSecret: stack.authSecret,
      database: { url: stack.databaseUrl },
      shared: { redis: stack.redis, sink: stack.sink },
      env: { RESEND_API_KEY: API_KEY, RESEND_BASE_URL: stub.baseUrl, MAIL_FROM: `Verified Signup <no-reply@${SENDING_DOMAIN}>`, MAIL_RATE_PER_SECOND: "2" },
    });
  }, 240_000);
  afterAll(async () => second?.stop(), 30_000);

  it("pace together: 20 signups spread over both arrive once each, and the provider refuses next to none for the rate", async () => {
    const viaSecond = httpClient(() => second.app.url, nextIp);
    const people = Array.from({ length: 20 }, (_, n) => ({ name: "Ada Lovelace", email: address("pair", n), password: PASSWORD }));
    const firstRequest = stub.requests.length;
    const answers = await Promise.all(people.map(async (person, n) => (n % 2 ? viaSecond.post : post)("/api/register", person)));
    expect(answers.map((a) => a.status)).toEqual(people.map(() => 201));
    const wanted = new Set(people.map((p) => p.email));
    const deadline = Date.now() + 90_000;
    while (stub.accepted().filter((m) => wanted.has(m.to)).length < people.length && Date.now() < deadline) await sleep(250);
    const delivered = stub
      .accepted()
      .filter((m) => wanted.has(m.to))
      .map((m) => m.to);
    expect([...delivered].sort()).toEqual([...wanted].sort());
    // Each instance pacing on its own would send 4 a second and see about every other request refused.
    const refused = stub.requests.slice(firstRequest).filter((r) => r.status === 429).length;
    expect(refused).toBeLessThanOrEqual(4);
  }, 180_000);
});

describe("a sending domain Resend refuses (403)", () => {
  const email = address("refused");
  let registration = "";

  beforeAll(async () => {
    stub.unverifiedDomains.add(SENDING_DOMAIN);
    const r = await post("/api/register", { name: "Ada Lovelace", email, password: PASSWORD });
    expect(r.status, r.text).toBe(201);
    registration = r.json.registration;
    await waitForDelivery(email, "failed");
  }, 60_000);

  afterAll(() => stub.unverifiedDomains.delete(SENDING_DOMAIN));

  it("is tried once (a 403 cannot succeed) and the API says failed", async () => {
    expect(stub.requests.filter((r) => (r.body as { to?: string })?.to === email).map((r) => r.status)).toEqual([403]);
    expect(await deliveryOf(email)).toBe("failed");
  });

  it('the verify page says "could not be sent" without JavaScript (server-rendered)', async () => {
    const page = await get(`/verify?email=${encodeURIComponent(email)}`, { cookie: `registration=${registration}` });
    expect(page.status).toBe(200);
    expect(page.text).toContain("could not be sent");
    expect(page.text).toContain('data-delivery="failed"');
  });

  it("the log names the refusal (resend 403 validation_error), not cause: unknown", () => {
    const log = readFileSync(stack.logFile, "utf8");
    expect(log).toMatch(/"event":"code_send_failed","kind":"verify_email","cause":"resend 403 validation_error"/);
    expect(log).not.toContain('cause":"unknown');
    expect(log).not.toContain(API_KEY);
  });

  it("npm run doctor names the cause: the domain is not verified, and how to fix it", () => {
    const result = spawnSync(process.execPath, [join(ROOT, "node_modules/tsx/dist/cli.mjs"), "scripts/doctor.ts"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
      env: {
        ...process.env,
        NODE_ENV: "development",
        DATABASE_URL: stack.databaseUrl,
        REDIS_URL: stack.redis.url,
        UPSTASH_REDIS_REST_URL: "",
        RESEND_API_KEY: API_KEY,
        RESEND_BASE_URL: stub.baseUrl,
        MAIL_FROM: `Verified Signup <no-reply@${SENDING_DOMAIN}>`,
      },
    });
    const output = `${result.stdout}${result.stderr}`;
    expect(output).toMatch(
      /FAIL .*the provider refused a verify_email message \d+ min ago: resend 403 validation_error: The mail-delivery\.example\.test domain is not verified/,
    );
    expect(output).toContain("Verify the sending domain at https://resend.com/domains");
    expect(output).not.toContain(API_KEY);
    expect(result.status).toBe(1);
  });
});
