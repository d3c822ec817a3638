import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { blankDeveloperEnv, startApp, type AppServer, type TestStack } from "@/testing/services/app-server";
import { clientAddresses, expectErrorShape, httpClient, withTestStack, type Reply } from "@/testing/http-client";
import { uniqueEmail } from "@/testing/people";

/**
 * Hardening found on the way, replayed against the production build (`next start`, copied to a temp directory):
 * the cross-site check and X-Forwarded-Host, Cache-Control on the JSON API, bidirectional-override characters in
 * names, and plaintext Redis to another host.
 *
 * This app runs WITHOUT TRUST_PROXY (unlike the other HTTP suites): the forwarded headers are not to be believed.
 * Every request then comes from 127.0.0.1, so the suite stays well inside the per-IP limits.
 */

const ROOT = process.cwd();
const PASSWORD = "velvet hammock orbit lantern 42";

let stack: TestStack;
let app: AppServer;

withTestStack({ root: ROOT, snapshotPrefix: "http-hygiene-", readyPath: "/login", env: { TRUST_PROXY: "" } }, (started) => {
  stack = started;
  ({ app } = started);
});

const nextIp = clientAddresses();
const { post, get } = httpClient(() => app.url, nextIp);
describe("the cross-site check without TRUST_PROXY", () => {
  it("a POST with Origin: https://evil.example is refused 403 cross_site even when it also says X-Forwarded-Host: evil.example", async () => {
    for (const path of ["/api/login", "/api/register", "/api/password-reset"]) {
      const r = await post(
        path,
        { email: uniqueEmail("xfh"), password: PASSWORD, name: "Ada" },
        { headers: { origin: "https://evil.example", "x-forwarded-host": "evil.example" } },
      );
      expect(r.status, `${path}: ${r.text}`).toBe(403);
      expectErrorShape(r, "cross_site");
    }
    // The control: the app's own origin, with no forwarded host, passes the check.
    const own = await post("/api/login", { email: uniqueEmail("xfh-own"), password: PASSWORD }, { headers: { origin: app.url } });
    expect(own.status, own.text).toBe(401);
  });
});

describe("Cache-Control on the JSON API", () => {
  it("every answer under /api carries Cache-Control: no-store: successes, refusals, Auth.js's own routes and the health check", async () => {
    const email = uniqueEmail("no-store");
    const answers: Array<[string, Reply]> = [
      ["POST /api/register 201", await post("/api/register", { name: "Ada Lovelace", email, password: PASSWORD })],
      ["POST /api/resend-otp 200", await post("/api/resend-otp", { email: uniqueEmail("no-store-resend") })],
      ["POST /api/login 401", await post("/api/login", { email, password: "not the password at all 1" })],
      ["POST /api/login 400", await post("/api/login", { email: "not an address" })],
      ["POST /api/login 415", await post("/api/login", undefined, { raw: "x", headers: { "content-type": "text/plain" } })],
      ["POST /api/login 413", await post("/api/login", undefined, { raw: JSON.stringify({ email: "a".repeat(20_000) }) })],
      ["POST /api/login 403", await post("/api/login", { email, password: PASSWORD }, { headers: { origin: "https://evil.example" } })],
      ["GET /api/account/email 405", await get("/api/account/email")],
      ["POST /api/account/password 401", await post("/api/account/password", { currentPassword: PASSWORD, newPassword: PASSWORD })],
      ["GET /api/health", await get("/api/health")],
      ["GET /api/auth/csrf", await get("/api/auth/csrf")],
      ["GET /api/auth/session", await get("/api/auth/session")],
      ["GET /api/auth/providers", await get("/api/auth/providers")],
    ];
    expect(answers[0]?.[1].status, answers[0]?.[1].text).toBe(201);
    for (const [label, r] of answers) expect(r.headers.get("cache-control") ?? "(none)", `${label} (${r.status})`).toMatch(/\bno-store\b/);
  });
});

describe("names", () => {
  const refused: Array<[string, string]> = [
    ...["\u202A", "\u202B", "\u202C", "\u202D", "\u202E", "\u2066", "\u2067", "\u2068", "\u2069"].map((c): [string, string] => [
      `U+${c.codePointAt(0)!.toString(16).toUpperCase()}`,
      `Ada ${c}ecalevol`,
    ]),
    ["U+0007 (a control character)", "Ada\u0007"],
    ["U+0085 (a C1 control character)", "Ada\u0085Lovelace"],
  ];

  it.each(refused)("POST /api/register with a name containing %s is refused 400 invalid_input on the name, and no account is made", async (_label, name) => {
    const email = uniqueEmail("bidi");
    const r = await post("/api/register", { name, email, password: PASSWORD });
    expect(r.status, r.text).toBe(400);
    expectErrorShape(r, "invalid_input");
    expect(Object.keys(r.json.error.fields ?? {})).toEqual(["name"]);
    // Nothing was registered: the same address signs up with a plain name.
    const plain = await post("/api/register", { name: "Ada Lovelace", email, password: PASSWORD });
    expect(plain.status, plain.text).toBe(201);
  });

  it("names in other scripts and with marks still register (Arabic, Hebrew, Devanagari, an emoji)", async () => {
    for (const name of ["أدا لوفلايس", "עדה לאבלייס", "अदा लवलेस", "Ada 🦄"]) {
      const r = await post("/api/register", { name, email: uniqueEmail("script"), password: PASSWORD });
      expect(r.status, `${name}: ${r.text}`).toBe(201);
    }
  });
});

describe("plaintext Redis to another host", () => {
  /** `next start` from the snapshot the suite runs, with the suite's variables but another REDIS_URL. */
  async function startWithRedis(env: Record<string, string>): Promise<{ server?: AppServer; error?: Error }> {
    const dataDir = mkdtempSync(join(tmpdir(), "http-hygiene-redis-"));
    try {
      const server = await startApp({
        root: join(stack.logFile, ".."),
        logFile: join(dataDir, "next.log"),
        readyPath: "/login",
        readyTimeoutMs: 30_000,
        env: {
          ...blankDeveloperEnv(),
          NODE_ENV: "production",
          AUTH_SECRET: stack.authSecret,
          AUTH_TRUST_HOST: "true",
          SMTP_URL: `smtp://127.0.0.1:${stack.sink.port}`,
          MAIL_FROM: "Verified Signup <no-reply@example.test>",
          DATABASE_URL: `file:${join(dataDir, "app.db")}`,
          ...env,
        },
      });
      return { server };
    } catch (error) {
      return { error: error as Error };
    } finally {
      setTimeout(() => rmSync(dataDir, { recursive: true, force: true }), 10_000).unref();
    }
  }

  it("production refuses to start with REDIS_URL=redis:// to a non-loopback host, naming REDIS_URL and rediss://; REDIS_ALLOW_PLAINTEXT=true lets it start", async () => {
    const refused = await startWithRedis({ REDIS_URL: "redis://10.0.0.7:6379" });
    await refused.server?.stop();
    expect(refused.error?.message ?? "it started", "redis:// to 10.0.0.7").toMatch(/exited/);
    expect(refused.error?.message).toMatch(/REDIS_URL/);
    expect(refused.error?.message).toMatch(/rediss:\/\//);

    const allowed = await startWithRedis({ REDIS_URL: "redis://10.0.0.7:6379", REDIS_ALLOW_PLAINTEXT: "true" });
    try {
      expect(allowed.error?.message, "with REDIS_ALLOW_PLAINTEXT=true").toBeUndefined();
    } finally {
      await allowed.server?.stop();
    }
  }, 90_000);
});
