import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openDatabase } from "@/db/client";
import { startRedis, type RedisServer } from "@/e2e/support/redis-server";
import { createAccounts } from "@/lib/accounts";
import { parseConfig } from "@/lib/config";
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

describe("parallel wrong passwords on one account", () => {
  it("are evaluated at most LOGIN_FAILURES_PER_ACCOUNT times; the rest are refused before any hash check", async () => {
    const handle = openDatabase(`file:${path.join(root, "app.db")}`);
    await handle.ready;
    const accounts = createAccounts({ db: handle.db, store, mailer: silentMailer, config });
    const email = "race@example.com";
    await accounts.register({ name: "Race", email, password: "correct horse battery staple" }, { ip: "10.0.0.1" });

    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        accounts.authenticate({ email, password: `wrong password number ${i}` }, { ip: `10.1.${i}.1` }),
      ),
    );

    const evaluated = results.filter((r) => !r.ok && r.reason !== "rate_limited");
    const refused = results.filter((r) => !r.ok && r.reason === "rate_limited");
    expect(evaluated).toHaveLength(config.limits.loginFailuresPerAccount);
    expect(refused).toHaveLength(50 - config.limits.loginFailuresPerAccount);
    expect(evaluated.every((r) => !r.ok && r.reason === "invalid_credentials")).toBe(true);
  });
});
