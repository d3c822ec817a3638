import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import type { SmtpSink } from "@/testing/services/smtp-sink";
import type { AppServer } from "@/testing/services/app-server";
import type { RedisServer } from "@/testing/services/redis-server";
import { openDatabase } from "@/db/client";
import { parseConfig } from "@/lib/platform/config";
import { createOrPromoteStaff } from "@/lib/staff/create-admin";
import { setAuthEventSink } from "@/lib/platform/log";
import { RedisCodeStore } from "@/lib/store/redis";
import { clientAddresses, httpClient, withTestStack } from "@/testing/http-client";

/**
 * An attacker registers the address an operator is about to make an admin, with a password of its own;
 * the operator then runs `npm run create-admin -- --email ADDRESS --role admin` (its core, against the
 * same database and Redis as the running production build). The attacker's password must not open the
 * account afterwards; the password the operator typed at the prompt must.
 */

const ATTACKER_PASSWORD = "quartz meadow violin harbour 17";
const OPERATOR_PASSWORD = "velvet hammock orbit lantern 42";

let app: AppServer;
let redis: RedisServer;
let sink: SmtpSink;
let databaseUrl: string;
let authSecret: string;

withTestStack({ root: process.cwd(), snapshotPrefix: "attack-create-admin-", readyPath: "/login" }, (stack) => {
  ({ app, redis, sink, databaseUrl, authSecret } = stack);
});

const { post } = httpClient(() => app.url, clientAddresses());

/** `npm run create-admin -- --email ADDRESS --role admin`, with OPERATOR_PASSWORD typed at the hidden prompt. */
async function operatorRunsCreateAdmin(email: string) {
  const handle = openDatabase(databaseUrl);
  await handle.ready;
  const store = new RedisCodeStore(redis.url);
  try {
    const config = parseConfig({ NODE_ENV: "test", AUTH_SECRET: authSecret });
    setAuthEventSink(() => {});
    const ask = vi.fn(async () => ({ password: OPERATOR_PASSWORD, confirmation: OPERATOR_PASSWORD }));
    const result = await createOrPromoteStaff({ db: handle.db, store, config }, { email, role: "admin", resetTotp: false }, ask);
    return { result, asked: ask.mock.calls.length };
  } finally {
    setAuthEventSink(undefined);
    await store.close();
    handle.client.close();
  }
}

describe("create-admin on an address someone registered first", () => {
  it("discards the earlier signup's password: it answers 401, the operator's typed password 200", async () => {
    const email = `ops-${randomBytes(4).toString("hex")}@company.test`;
    const before = Date.now();
    const registered = await post("/api/register", { name: "Mallory", email, password: ATTACKER_PASSWORD });
    expect(registered.status, registered.text).toBe(201);
    // The signup mailed its code to the real owner; the attacker never reads it.
    await sink.waitForMail(email, { after: before - 1 });

    const { result, asked } = await operatorRunsCreateAdmin(email);

    const attacker = await post("/api/login", { email, password: ATTACKER_PASSWORD });
    expect(attacker.status, attacker.text).toBe(401);
    const operator = await post("/api/login", { email, password: OPERATOR_PASSWORD });
    expect(operator.status, operator.text).toBe(200);
    expect(asked, "the operator is asked for a password").toBe(1);
    // Nothing the signup chose survives: the name is the address's local part, as for a new account.
    expect(result.user).toMatchObject({ email, role: "admin", isActive: true, name: email.split("@")[0] });
  });
});
