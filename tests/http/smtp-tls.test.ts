import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack, type TestStack } from "@/testing/services/app-server";
import { extractCode } from "@/testing/mailbox";
import { startRedis, type RedisServer } from "@/testing/services/redis-server";
import { startSmtpSink, type SmtpSink } from "@/testing/services/smtp-sink";
import { selfSignedCert, type SelfSignedCert } from "@/testing/services/tls-cert";
import { clientAddresses, httpClient } from "@/testing/http-client";

/**
 * SMTP as real providers run it: a submission port with STARTTLS and a port-465-style implicit TLS port, both
 * requiring AUTH (only over TLS), with a self-signed certificate the app trusts only through NODE_EXTRA_CA_CERTS.
 */

const ROOT = process.cwd();
const PASSWORD = "velvet hammock orbit lantern 42";
const SMTP_USER = "mailer@example.test";
const SMTP_PASSWORD = `smtp-${randomBytes(8).toString("hex")}`;
const WRONG_SMTP_PASSWORD = `wrong-${randomBytes(8).toString("hex")}`;
const MAIL_FROM = "Verified Signup <no-reply@example.test>";

let cert: SelfSignedCert;
let redis: RedisServer;
let starttls: SmtpSink;
let implicit: SmtpSink;

beforeAll(async () => {
  cert = selfSignedCert();
  redis = await startRedis();
  const tls = { key: cert.key, cert: cert.cert, auth: { user: SMTP_USER, password: SMTP_PASSWORD } };
  starttls = await startSmtpSink(undefined, { mode: "starttls", ...tls });
  implicit = await startSmtpSink(undefined, { mode: "implicit", ...tls });
}, 60_000);

afterAll(async () => {
  await starttls?.close();
  await implicit?.close();
  await redis?.stop();
  cert?.remove();
});

const nextIp = clientAddresses();
const address = (label: string) => `${label}-${randomBytes(4).toString("hex")}@example.test`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `npm run doctor` as an operator runs it, with these mail settings. Asynchronous: the SMTP sinks live in this
 * process and must keep answering while it runs.
 */
function doctor(env: Record<string, string>, args: string[] = []): Promise<{ status: number | null; output: string }> {
  const child = spawn(process.execPath, [join(ROOT, "node_modules/tsx/dist/cli.mjs"), "scripts/doctor.ts", ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "development",
      DATABASE_URL: `file:${join(cert.certFile, "..", "doctor.db")}`,
      REDIS_URL: redis.url,
      UPSTASH_REDIS_REST_URL: "",
      RESEND_API_KEY: "",
      SMTP_URL: "",
      MAIL_FROM,
      NODE_EXTRA_CA_CERTS: "",
      ...env,
    },
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, output })));
}

const implicitUrl = (password: string) => `smtps://${encodeURIComponent(SMTP_USER)}:${encodeURIComponent(password)}@127.0.0.1:${implicit.port}`;

describe("SMTP with STARTTLS on a submission port (587 style), AUTH required", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      root: ROOT,
      snapshotPrefix: "smtp-starttls-app-",
      readyPath: "/login",
      shared: { redis, sink: starttls },
      env: {
        SMTP_URL: "",
        SMTP_HOST: "127.0.0.1",
        SMTP_PORT: String(starttls.port),
        SMTP_SECURE: "false",
        SMTP_USER,
        SMTP_PASSWORD,
        NODE_EXTRA_CA_CERTS: cert.certFile,
      },
    });
  }, 240_000);
  afterAll(async () => stack?.stop(), 30_000);

  it("delivers a code the app can verify, over TLS it trusts through NODE_EXTRA_CA_CERTS", async () => {
    const { post } = httpClient(() => stack.app.url, nextIp);
    const email = address("starttls");
    const before = Date.now();
    const r = await post("/api/register", { name: "Ada Lovelace", email, password: PASSWORD });
    expect(r.status, r.text).toBe(201);
    const code = extractCode(await starttls.waitForMail(email, { after: before - 1, timeoutMs: 20_000 }));
    const verified = await post("/api/verify-otp", { email, otp: code, registration: r.json.registration });
    expect(verified.status, verified.text).toBe(200);
  }, 60_000);

  it("doctor logs in over STARTTLS with the certificate trusted, and says what is wrong without it", async () => {
    const env = { SMTP_HOST: "127.0.0.1", SMTP_PORT: String(starttls.port), SMTP_SECURE: "false", SMTP_USER, SMTP_PASSWORD };
    const trusted = await doctor({ ...env, NODE_EXTRA_CA_CERTS: cert.certFile });
    expect(trusted.output).toMatch(/\[\s+ok\s+\] SMTP login to 127\.0\.0\.1:\d+ accepted/);
    const untrusted = await doctor(env);
    expect(untrusted.output).toMatch(/FAIL .*SMTP check failed.*(self[- ]signed|certificate)/i);
    for (const run of [trusted, untrusted]) expect(run.output).not.toContain(SMTP_PASSWORD);
  }, 60_000);
});

describe("SMTP with implicit TLS (465 style), AUTH required", () => {
  it("doctor --send-test delivers over implicit TLS with the right password", async () => {
    const to = address("implicit");
    const run = await doctor({ SMTP_URL: implicitUrl(SMTP_PASSWORD), NODE_EXTRA_CA_CERTS: cert.certFile }, ["--send-test", to]);
    expect(run.output).toMatch(/\[\s+ok\s+\] SMTP login to 127\.0\.0\.1:\d+ accepted/);
    expect(run.output).toMatch(/\[\s+ok\s+\] accepted by the SMTP server/);
    await implicit.waitForMail(to, { timeoutMs: 10_000 });
    expect(run.output).not.toContain(SMTP_PASSWORD);
  }, 60_000);

  it("with a wrong password: doctor says the login was refused and what to check; the verify page says the code could not be sent", async () => {
    const run = await doctor({ SMTP_URL: implicitUrl(WRONG_SMTP_PASSWORD), NODE_EXTRA_CA_CERTS: cert.certFile });
    expect(run.output).toMatch(/FAIL .*SMTP check failed on 127\.0\.0\.1:\d+: .*(Invalid login|535)/);
    expect(run.output).toContain("The server refused the login: check SMTP_USER and SMTP_PASSWORD");
    expect(run.output).not.toContain(WRONG_SMTP_PASSWORD);
    expect(run.status).toBe(1);

    const stack = await startTestStack({
      root: ROOT,
      snapshotPrefix: "smtp-wrong-password-app-",
      readyPath: "/login",
      shared: { redis, sink: implicit },
      env: { SMTP_URL: implicitUrl(WRONG_SMTP_PASSWORD), NODE_EXTRA_CA_CERTS: cert.certFile },
    });
    try {
      const { post, get } = httpClient(() => stack.app.url, nextIp);
      const email = address("wrong-password");
      const r = await post("/api/register", { name: "Ada Lovelace", email, password: PASSWORD });
      expect(r.status, r.text).toBe(201);
      let delivery = "";
      for (const deadline = Date.now() + 20_000; Date.now() < deadline && delivery !== "failed"; await sleep(200)) {
        delivery = (await get(`/api/delivery?email=${encodeURIComponent(email)}`)).json.delivery;
      }
      expect(delivery).toBe("failed");
      const page = await get(`/verify?email=${encodeURIComponent(email)}`);
      expect(page.text).toContain("could not be sent");
      expect(stack.logs()).toMatch(/"event":"code_send_failed","kind":"verify_email","cause":"smtp 535 EAUTH"/);
      expect(stack.logs()).not.toContain(WRONG_SMTP_PASSWORD);
    } finally {
      await stack.stop();
    }
  }, 240_000);
});
