import { request } from "node:http";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blankDeveloperEnv, startApp, startTestStack, testAppEnv, type AppServer, type TestStack } from "@/testing/services/app-server";
import { extractCode } from "@/testing/mailbox";
import { startNginx, type ReverseProxy } from "@/testing/services/nginx";
import { uniqueEmail } from "@/testing/people";

/**
 * Two `next start` instances of the production build behind a real nginx (Debian's package), sharing one
 * Redis, one database and one AUTH_SECRET, with TRUST_PROXY=true as a deployment behind a proxy sets it.
 *
 * The test client always runs on this machine, but loopback is a whole /8: each simulated visitor connects
 * from its own 127.x address (the socket's local address), so the address nginx sees ($remote_addr) is a real
 * socket address, not something the client claims. That is what honestly shows that per-IP limits count the
 * client's address as the proxy passes it (not the proxy's own, which is 127.0.0.1 for every request), and
 * that an X-Forwarded-For the client sends is not believed: nginx overwrites it on the listener to copy, and
 * on a second listener that appends to it instead, the app still takes only the hop its proxy added.
 */

const PASSWORD = "velvet hammock orbit lantern 42";
const WRONG = "not the password at all, friend";
/** Failed logins a client may make per window: low, so a test reaches it in a few requests. */
const LOGIN_FAILURES_PER_IP = 6;

let stack: TestStack;
let second: AppServer;
let proxy: ReverseProxy;

beforeAll(async () => {
  const env = { LOGIN_FAILURES_PER_IP: String(LOGIN_FAILURES_PER_IP) };
  stack = await startTestStack({ root: process.cwd(), snapshotPrefix: "http-reverse-proxy-", readyPath: "/login", env });
  // The second instance: the same build, database, Redis, mail and secret; only its port differs.
  const root = dirname(stack.logFile);
  second = await startApp({
    root,
    logFile: `${root}/next-server-2.log`,
    readyPath: "/login",
    env: {
      ...blankDeveloperEnv(),
      ...testAppEnv({ authSecret: stack.authSecret, redisUrl: stack.redis.url, smtpPort: stack.sink.port, databaseUrl: stack.databaseUrl }),
      DATABASE_AUTH_TOKEN: "",
      ...env,
    },
  });
  proxy = await startNginx([`127.0.0.1:${stack.app.port}`, `127.0.0.1:${second.port}`]);
}, 240_000);

afterAll(async () => {
  await proxy?.stop();
  await second?.stop();
  await stack?.stop();
}, 30_000);

interface ProxiedReply {
  status: number;
  text: string;
  json: any;
  /** The instance nginx sent the request to. */
  upstream: string;
  setCookies: string[];
}

/** One request through nginx from the loopback address `from`, with any headers the client chooses to send. */
function send(
  from: string,
  method: "GET" | "POST",
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; via?: string } = {},
): Promise<ProxiedReply> {
  const url = new URL(path, options.via ?? proxy.url);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        localAddress: from,
        headers: { ...(body ? { "content-type": "application/json" } : {}), ...options.headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const cookies = res.headers["set-cookie"] ?? [];
          resolve({ status: res.statusCode!, text, json, upstream: String(res.headers["x-upstream"] ?? ""), setCookies: cookies });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const instances = () => [`127.0.0.1:${stack.app.port}`, `127.0.0.1:${second.port}`];
const sessionCookie = (r: ProxiedReply) =>
  r.setCookies
    .map((c) => c.split(";")[0]!)
    .filter((pair) => /^authjs\.session-token(\.\d+)?=./.test(pair))
    .join("; ");

/** A verified account (registered and verified through the proxy). */
async function verifiedAccount(from: string): Promise<string> {
  const email = uniqueEmail("owner");
  const before = Date.now();
  const registered = await send(from, "POST", "/api/register", { body: { name: "Ada Lovelace", email, password: PASSWORD } });
  expect(registered.status, registered.text).toBe(201);
  const code = extractCode(await stack.sink.waitForMail(email, { after: before - 1 }));
  const verified = await send(from, "POST", "/api/verify-otp", { body: { email, otp: code, registration: registered.json.registration } });
  expect(verified.status, verified.text).toBe(200);
  return email;
}

/** Spends `from`'s login budget on unknown addresses; each request may carry the headers `spoof` gives. */
async function spendLoginBudget(from: string, spoof: (n: number) => Record<string, string> = () => ({}), via?: string) {
  const replies: ProxiedReply[] = [];
  for (let n = 0; n < LOGIN_FAILURES_PER_IP; n++) {
    replies.push(await send(from, "POST", "/api/login", { body: { email: uniqueEmail("nobody"), password: WRONG }, headers: spoof(n), via }));
  }
  expect(replies.map((r) => r.status)).toEqual(Array.from({ length: LOGIN_FAILURES_PER_IP }, () => 401));
  return replies;
}

describe("several instances behind nginx", () => {
  it("one walk (register, code, verify, login, /account) alternates between the two instances and works across them", async () => {
    const from = "127.0.0.2";
    const email = uniqueEmail("walk");
    const before = Date.now();
    const steps: ProxiedReply[] = [];
    steps.push(await send(from, "POST", "/api/register", { body: { name: "Ada Lovelace", email, password: PASSWORD } }));
    expect(steps[0]!.status, steps[0]!.text).toBe(201);
    const code = extractCode(await stack.sink.waitForMail(email, { after: before - 1 }));
    steps.push(await send(from, "POST", "/api/verify-otp", { body: { email, otp: code, registration: steps[0]!.json.registration } }));
    expect(steps[1]!.status, steps[1]!.text).toBe(200);
    steps.push(await send(from, "POST", "/api/login", { body: { email, password: PASSWORD } }));
    expect(steps[2]!.status, steps[2]!.text).toBe(200);
    const cookie = sessionCookie(steps[2]!);
    expect(cookie).not.toBe("");
    steps.push(await send(from, "GET", "/account", { headers: { cookie } }));
    expect(steps[3]!.status).toBe(200);
    expect(steps[3]!.text).toContain(email);
    // Each step was answered by the other instance than the step before it.
    for (const step of steps) expect(instances()).toContain(step.upstream);
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.upstream).not.toBe(steps[i - 1]!.upstream);
  });

  it("per-IP limits count the client's address as nginx passes it, across both instances: a spent client is refused 429 even with the right password, another client is not", async () => {
    const owner = await verifiedAccount("127.0.0.3");
    const failures = await spendLoginBudget("127.0.0.5");
    expect(new Set(failures.map((r) => r.upstream))).toEqual(new Set(instances()));
    const refused = await send("127.0.0.5", "POST", "/api/login", { body: { email: owner, password: PASSWORD } });
    expect(refused.status, refused.text).toBe(429);
    // Every request reached the app from nginx's own address: had that been counted, this client would be refused too.
    const other = await send("127.0.0.6", "POST", "/api/login", { body: { email: owner, password: PASSWORD } });
    expect(other.status, other.text).toBe(200);
  });

  it("a spoofed X-Forwarded-For is not believed (nginx overwrites it): spoofing fresh addresses does not refill a spent budget, and spoofing a spent client's address does not spend another's", async () => {
    const owner = await verifiedAccount("127.0.0.3");
    await spendLoginBudget("127.0.0.7", (n) => ({ "x-forwarded-for": `203.0.113.${n + 1}` }));
    const refused = await send("127.0.0.7", "POST", "/api/login", {
      body: { email: owner, password: PASSWORD },
      headers: { "x-forwarded-for": "203.0.113.99" },
    });
    expect(refused.status, refused.text).toBe(429);
    const other = await send("127.0.0.8", "POST", "/api/login", { body: { email: owner, password: PASSWORD }, headers: { "x-forwarded-for": "127.0.0.7" } });
    expect(other.status, other.text).toBe(200);
  });

  it("behind a proxy that appends to X-Forwarded-For instead, the app takes the hop the proxy added, not what the client wrote before it", async () => {
    const owner = await verifiedAccount("127.0.0.3");
    await spendLoginBudget("127.0.0.9", (n) => ({ "x-forwarded-for": `203.0.113.${n + 1}` }), proxy.appendingUrl);
    const refused = await send("127.0.0.9", "POST", "/api/login", {
      body: { email: owner, password: PASSWORD },
      headers: { "x-forwarded-for": "203.0.113.99, 198.51.100.1" },
      via: proxy.appendingUrl,
    });
    expect(refused.status, refused.text).toBe(429);
    const other = await send("127.0.0.10", "POST", "/api/login", {
      body: { email: owner, password: PASSWORD },
      headers: { "x-forwarded-for": "127.0.0.9" },
      via: proxy.appendingUrl,
    });
    expect(other.status, other.text).toBe(200);
  });
});
