import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AppServer } from "@/e2e/support/app-server";
import { clientAddresses, expectErrorShape, httpClient, withTestStack, type Reply } from "@/tests/support/http-client";

/**
 * Attacks where one unauthenticated request could stall or swell the whole server, replayed against the
 * production build (`next start`, copied to a temp directory first) with exact HTTP requests.
 */

const ROOT = process.cwd();
const PASSWORD = "velvet hammock orbit lantern 42";

let app: AppServer;

withTestStack({ root: ROOT, snapshotPrefix: "http-one-request-", readyPath: "/login" }, (stack) => {
  ({ app } = stack);
});

const nextIp = clientAddresses();
const { post, get } = httpClient(() => app.url, nextIp);

const newEmail = (label: string) => `${label}-${Date.now()}-${randomBytes(3).toString("hex")}@example.test`;

/** GET /api/health, abandoned after `ms`: null when it was not answered in time. */
async function healthWithin(ms: number): Promise<number | null> {
  try {
    const res = await fetch(`${app.url}/api/health`, { signal: AbortSignal.timeout(ms) });
    await res.text();
    return res.status;
  } catch {
    return null;
  }
}

// ---- Session-cookie chunk numbers ----------------------------------------------------------------------

describe("session-cookie chunk numbers", () => {
  it("POST /api/login with Cookie: authjs.session-token.150000000=x is answered, and a health check sent meanwhile is answered too", async () => {
    const login = post("/api/login", { email: newEmail("chunk"), password: PASSWORD }, { cookie: "authjs.session-token.150000000=x" });
    await new Promise((r) => setTimeout(r, 100));
    // Generous: a health check takes milliseconds; with the chunk number used as an array index it waited ~20 s.
    expect(await healthWithin(2_000), "GET /api/health while the login runs").toBe(200);
    const r = await login;
    expect(r.status, r.text).toBe(401);
    expectErrorShape(r, "invalid_credentials");
  }, 60_000);

  const cookieName = fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom("", "__Secure-", "__Host-"), fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.stringMatching(/^\d{1,30}$/)))
        .map(([prefix, n]) => `${prefix}authjs.session-token.${n}`),
    },
    { weight: 1, arbitrary: fc.constantFrom("authjs.session-token", "authjs.session-token.", "authjs.session-token.-1", "authjs.session-token.1e9", "authjs.session-token.0x10") },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._-]{1,40}$/) },
  );
  const cookieValue = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._~-]{0,60}$/), fc.constantFrom("", "x", "%00", "\"quoted\""));
  const cookieHeader = fc.array(fc.tuple(cookieName, cookieValue), { minLength: 1, maxLength: 6 }).map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join("; "));

  it("fuzz: hostile Cookie headers on POST /api/login and GET /account never answer 5xx and never stall the server (fast-check, 300 headers)", async () => {
    await fc.assert(
      fc.asyncProperty(cookieHeader, async (cookie) => {
        const [login, account, health] = await Promise.all([
          post("/api/login", { email: newEmail("chunk-fuzz"), password: PASSWORD }, { cookie }),
          get("/account", { cookie }),
          healthWithin(5_000),
        ]);
        expect(login.status, `${cookie} -> ${login.text.slice(0, 200)}`).toBe(401);
        expectErrorShape(login, "invalid_credentials");
        expect(account.status, cookie).toBeLessThan(500);
        expect(health, `${cookie}: health`).toBe(200);
      }),
      { numRuns: 300 },
    );
  }, 240_000);
});
