import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openDatabase } from "@/db/client";
import { startRedis, type RedisServer } from "@/testing/services/redis-server";
import { wireServices } from "@/lib/platform/runtime";
import { parseConfig } from "@/lib/platform/config";
import type { Mailer } from "@/lib/mail/mailer";
import { RedisCodeStore } from "@/lib/store/redis";

/**
 * Login limits hold under parallel guessing: every attempt is counted on the account before the
 * password is checked (one atomic script on a real Redis), so a burst cannot slip past the limit.
 */

const config = parseConfig({ NODE_ENV: "test", AUTH_SECRET: "test-secret-for-login-race" });
const root = mkdtempSync(path.join(tmpdir(), "login-race-"));
const silentMailer: Mailer = { send: async () => {}, verify: async () => {} };
let redis: RedisServer;
let store: RedisCodeStore;

beforeAll(async () => {
  redis = await startRedis();
  store = new RedisCodeStore(redis.url);
  vi.spyOn(console, "info").mockImplementation(() => {});
});

afterAll(async () => {
  await store.close();
  await redis.stop();
  rmSync(root, { recursive: true, force: true });
});

const PASSWORD = "correct horse battery staple";
let dbCount = 0;

async function freshAccounts() {
  const handle = openDatabase(`file:${path.join(root, `app-${++dbCount}.db`)}`);
  await handle.ready;
  return wireServices({ db: handle.db, store, mailer: codeMailer, config }).accounts;
}

/** Keeps the last code mailed, so a signup can be verified. */
let lastCode = "";
const codeMailer: Mailer = {
  send: async (message) => {
    lastCode = /\b(\d{6})\b/.exec(message.text)?.[1] ?? lastCode;
    await silentMailer.send(message);
  },
  verify: async () => {},
};

describe("parallel wrong passwords on one account", () => {
  it("are evaluated at most LOGIN_FAILURES_PER_ACCOUNT times; the rest are refused before any hash check", async () => {
    const accounts = await freshAccounts();
    const email = "race@example.com";
    const signup = await accounts.register({ name: "Race", email, password: PASSWORD }, { ip: "10.0.0.1" });
    // A verified account, with its password: the ordinary password check.
    const verified = await accounts.verifyEmail({ email, otp: lastCode, registration: signup.ok ? signup.registration : undefined }, { ip: "10.0.0.1" });
    expect(verified).toMatchObject({ ok: true });

    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => accounts.authenticate({ email, password: `wrong password number ${i}` }, { ip: `10.1.${i}.1` })),
    );

    const evaluated = results.filter((r) => !r.ok && r.reason !== "rate_limited");
    const refused = results.filter((r) => !r.ok && r.reason === "rate_limited");
    expect(evaluated).toHaveLength(config.limits.loginFailuresPerAccount);
    expect(refused).toHaveLength(50 - config.limits.loginFailuresPerAccount);
    expect(evaluated.every((r) => !r.ok && r.reason === "invalid_credentials")).toBe(true);
  });

  it("on an unverified account too, the pending signup's password among them: at most LOGIN_FAILURES_PER_ACCOUNT evaluated", async () => {
    const accounts = await freshAccounts();
    const email = "race-unverified@example.com";
    await accounts.register({ name: "Race", email, password: PASSWORD }, { ip: "10.0.0.2" });

    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => accounts.authenticate({ email, password: i % 2 ? PASSWORD : `wrong password number ${i}` }, { ip: `10.2.${i}.1` })),
    );

    const evaluated = results.filter((r) => !r.ok && r.reason !== "rate_limited");
    expect(evaluated).toHaveLength(config.limits.loginFailuresPerAccount);
    expect(results.filter((r) => !r.ok && r.reason === "rate_limited")).toHaveLength(50 - config.limits.loginFailuresPerAccount);
    expect(evaluated.every((r) => !r.ok && (r.reason === "invalid_credentials" || r.reason === "unverified"))).toBe(true);
    expect(results.some((r) => r.ok)).toBe(false);
  });
});

describe("parallel logins from one IP across accounts", () => {
  it("are evaluated at most LOGIN_FAILURES_PER_IP times: the IP is counted atomically before any hash check", async () => {
    const accounts = await freshAccounts();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => accounts.authenticate({ email: `nobody${i}@example.com`, password: PASSWORD }, { ip: "10.3.0.1" })),
    );
    const evaluated = results.filter((r) => !r.ok && r.reason !== "rate_limited");
    expect(evaluated).toHaveLength(config.limits.loginFailuresPerIp);
    expect(evaluated.every((r) => !r.ok && r.reason === "invalid_credentials")).toBe(true);
    expect(results.filter((r) => !r.ok && r.reason === "rate_limited")).toHaveLength(50 - config.limits.loginFailuresPerIp);
  });
});
