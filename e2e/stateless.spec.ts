import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { blankDeveloperEnv, ensureBuild, startApp, testAppEnv, type AppServer } from "../testing/services/app-server";
import { startRedis, type RedisServer } from "../testing/services/redis-server";
import { startSmtpSink, type SmtpSink } from "../testing/services/smtp-sink";

/**
 * Statelessness: two `next start` processes on different ports, sharing one Redis, one database and one mail
 * sink, and nothing else (no sticky sessions, no shared memory), serve one person's walk interchangeably.
 * These are servers of this spec's own, beside the one global-setup starts.
 */

const root = process.cwd();
let redis: RedisServer;
let sink: SmtpSink;
let dataDir: string;
let first: AppServer;
let second: AppServer;

test.describe.configure({ mode: "serial", timeout: 180_000 });

test.beforeAll(async () => {
  test.setTimeout(180_000);
  ensureBuild(root);
  redis = await startRedis();
  sink = await startSmtpSink();
  dataDir = mkdtempSync(join(tmpdir(), "e2e-stateless-"));
  const databaseUrl = `file:${join(dataDir, "app.db")}`;

  // As a deploy does: migrate once with `npm run db:migrate` (scripts/migrate.ts), then start the instances.
  await runMigrate(databaseUrl);

  const env = {
    ...blankDeveloperEnv(),
    // The one secret the instances must share: it signs the session cookie and keys the code hashes.
    ...testAppEnv({ authSecret: randomBytes(32).toString("base64"), redisUrl: redis.url, smtpPort: sink.port, databaseUrl }),
  };
  const options = (name: string) => ({ root, env, logFile: join(root, `test-results/stateless-${name}.log`), readyPath: "/api/health" });
  [first, second] = await Promise.all([startApp(options("first")), startApp(options("second"))]);
});

test.afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
  await sink?.close();
  await redis?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("register on one instance, verify on the other, log in on the first, use the session on the second", async () => {
  expect(first.pid).not.toBe(second.pid);
  expect(first.port).not.toBe(second.port);
  const email = `stateless-${randomUUID()}@example.test`;
  const password = "correct horse battery staple";
  // One visitor behind the trusted proxy, whichever instance answers.
  const headers = { "content-type": "application/json", "x-forwarded-for": "10.200.0.7" };

  const registered = await fetch(`${first.url}/api/register`, {
    method: "POST",
    headers,
    body: JSON.stringify({ name: "Stateless Sam", email, password }),
  });
  expect(registered.status, await registered.clone().text()).toBe(201);

  const mail = await sink.waitForMail(email, { timeoutMs: 15_000 });
  const code = mail.text.match(/\b(\d{6})\b/)?.[1];
  expect(code, "a 6-digit code in the email").toBeDefined();

  const { registration } = (await registered.json()) as { registration: string };
  const verified = await fetch(`${second.url}/api/verify-otp`, { method: "POST", headers, body: JSON.stringify({ email, otp: code, registration }) });
  expect(verified.status, await verified.clone().text()).toBe(200);

  const login = await fetch(`${first.url}/api/login`, { method: "POST", headers, body: JSON.stringify({ email, password }) });
  expect(login.status, await login.clone().text()).toBe(200);
  const setCookies = login.headers.getSetCookie();
  expect(setCookies.length, "login sets a session cookie").toBeGreaterThan(0);
  const cookie = setCookies.map((c) => c.split(";")[0]).join("; ");

  const account = await fetch(`${second.url}/account`, { headers: { cookie, "x-forwarded-for": "10.200.0.7" }, redirect: "manual" });
  expect(account.status, `GET /account on the second instance (location: ${account.headers.get("location")})`).toBe(200);
  expect(await account.text()).toContain(email);

  // Both instances report the same healthy, shared dependencies.
  for (const app of [first, second]) {
    const health = await fetch(`${app.url}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", checks: { codeStore: { kind: "redis" }, mail: { kind: "smtp" } } });
  }
});

function runMigrate(databaseUrl: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/migrate.ts"], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: databaseUrl, DATABASE_AUTH_TOKEN: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`npm run db:migrate failed (${code}):\n${output}`))));
  });
}
