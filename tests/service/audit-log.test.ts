import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Database } from "@/db/client";
import { authEvents } from "@/db/schema";
import { extractCode } from "@/testing/mailbox";
import { wireServices } from "@/lib/platform/runtime";
import { createAuditLog, toAuditRow } from "@/lib/platform/audit";
import { logAuthEvent, setAuthEventSink } from "@/lib/platform/log";
import type { Mailer, MailMessage } from "@/lib/mail/mailer";
import { loginSchema, registerSchema, verifyInputSchema } from "@/lib/schemas";
import { MemoryCodeStore } from "@/lib/store/memory";
import { freshDatabase, testConfig } from "@/testing/admin-fixtures";

// Next's after(): outside a request it throws (as the real one does); "inside a request" it keeps the
// callbacks, which the tests run when the response would have gone out.
const request = vi.hoisted(() => ({ active: false, afterCallbacks: [] as Array<() => unknown> }));
vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: (task: () => unknown) => {
    if (!request.active) throw new Error("after() was called outside a request scope");
    request.afterCallbacks.push(task);
  },
}));

const AT = new Date("2030-01-15T12:00:00Z");

describe("toAuditRow: what an event row may hold", () => {
  it("keeps the event, the user id, the outcome and harmless details", () => {
    expect(toAuditRow("login_failed", { userId: "u-1", reason: "wrong_password" }, AT)).toEqual({
      at: AT,
      event: "login_failed",
      userId: "u-1",
      outcome: "wrong_password",
      detail: null,
    });
    expect(toAuditRow("code_sent", { kind: "verify_email" }, AT)).toMatchObject({ userId: null, outcome: null, detail: '{"kind":"verify_email"}' });
    expect(toAuditRow("role_changed", { userId: "u-1", actorId: "u-2", from: "customer", to: "staff", verified: true }, AT).detail).toBe(
      '{"actorId":"u-2","from":"customer","to":"staff","verified":true}',
    );
    // An id is a UUID, which may well hold six digits in a row: it is not mistaken for a code.
    const actorId = "12345678-9012-4345-8789-012345678901";
    expect(toAuditRow("sessions_revoked", { userId: actorId, actorId }, AT)).toMatchObject({ userId: actorId, detail: JSON.stringify({ actorId }) });
    expect(toAuditRow("sessions_revoked", { note: actorId }, AT).detail).toBeNull();
  });

  it("never stores an address, a password, a code, a hash, a token or an IP, whatever a caller passes", () => {
    const row = toAuditRow(
      "login_failed",
      {
        userId: "someone@example.test",
        reason: "a@b.example",
        email: "ada@example.test",
        password: "correct horse battery staple",
        otp: "123456",
        code: "123456",
        totp: "654321",
        passwordHash: "$argon2id$...",
        token: "eyJhbGciOi",
        secret: "JBSWY3DPEHPK3PXP",
        ip: "198.51.100.7",
        note: "call 123456 now",
        to: "ada@example.test",
        long: "x".repeat(100),
      },
      AT,
    );
    const text = JSON.stringify(row);
    for (const forbidden of ["@", "123456", "654321", "horse", "argon2", "eyJ", "JBSW", "198.51.100.7", "xxxxxxxx"]) {
      expect(text).not.toContain(forbidden);
    }
    expect(row.userId).toBeNull();
    expect(row.outcome).toBeNull();
    expect(row.detail).toBeNull();
  });
});

describe("the auth_events sink", () => {
  let db: Database;
  let close: () => void;

  beforeEach(async () => {
    vi.spyOn(console, "info").mockImplementation(() => {});
    ({ db, close } = await freshDatabase("audit-test"));
  });
  afterEach(() => {
    setAuthEventSink(undefined);
    close();
    vi.restoreAllMocks();
  });

  const rows = () => db.select().from(authEvents).orderBy(authEvents.id);

  it("returns at once and writes in the background, in order, in one batch", async () => {
    const audit = createAuditLog(db);
    const insert = vi.spyOn(db, "insert");
    for (let i = 0; i < 5; i++) audit.sink("code_sent", { kind: "verify_email", n: i }, new Date(AT.getTime() + i));
    // Nothing has been written yet: the request that logged these did not wait for the database.
    expect(insert).not.toHaveBeenCalled();
    await audit.flush();
    expect(insert).toHaveBeenCalledTimes(1);
    expect((await rows()).map((r) => JSON.parse(r.detail!).n)).toEqual([0, 1, 2, 3, 4]);
    expect(audit.stats).toEqual({ written: 5, failed: 0, dropped: 0 });
  });

  describe("inside a request", () => {
    beforeEach(() => {
      request.active = true;
      request.afterCallbacks.length = 0;
    });
    afterEach(() => {
      request.active = false;
    });
    const tick = () => new Promise((r) => setTimeout(r, 20));

    it("writes once the response has gone out (after()), not while the request runs", async () => {
      const audit = createAuditLog(db);
      const insert = vi.spyOn(db, "insert");
      audit.sink("login_ok", { userId: "u-1" }, AT);
      audit.sink("login_ok", { userId: "u-2" }, AT);
      await tick();
      expect(insert).not.toHaveBeenCalled();
      expect(request.afterCallbacks).toHaveLength(2);
      await Promise.all(request.afterCallbacks.map((callback) => callback()));
      expect(insert).toHaveBeenCalledTimes(1);
      expect((await rows()).map((r) => r.userId)).toEqual(["u-1", "u-2"]);
    });

    it("writes within a second even when the response that queued the rows never ends", async () => {
      const audit = createAuditLog(db);
      audit.sink("login_ok", { userId: "u-1" }, AT);
      await new Promise((r) => setTimeout(r, 500));
      expect(await rows()).toHaveLength(0);
      await vi.waitFor(async () => expect(await rows()).toHaveLength(1), { timeout: 1_500, interval: 50 });
      expect(audit.stats).toEqual({ written: 1, failed: 0, dropped: 0 });
    });
  });

  it("swallows and counts a failed write (the database is gone), and reports it without details", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const audit = createAuditLog(db);
    close();
    audit.sink("login_ok", { userId: "u-1" }, AT);
    audit.sink("login_ok", { userId: "u-2" }, AT);
    await expect(audit.flush()).resolves.toBeUndefined();
    expect(audit.stats).toMatchObject({ written: 0, failed: 2 });
    expect(errors).toHaveBeenCalledTimes(1);
    expect(String(errors.mock.calls[0]![0])).toMatch(/"event":"audit_write_failed","count":2/);
    ({ db, close } = await freshDatabase("audit-test")); // for afterEach
  });

  it("bounds the queue: beyond it, events are dropped and counted", async () => {
    const audit = createAuditLog(db, { maxQueue: 3 });
    for (let i = 0; i < 5; i++) audit.sink("code_sent", { kind: "verify_email" }, AT);
    await audit.flush();
    expect(audit.stats).toEqual({ written: 3, failed: 0, dropped: 2 });
  });

  it("is append-only: the table refuses UPDATE and DELETE", async () => {
    const audit = createAuditLog(db);
    audit.sink("login_ok", { userId: "u-1" }, AT);
    await audit.flush();
    // drizzle wraps the driver's error ("Failed query: ..."); SQLite's own message is the cause.
    const refusal = (error: unknown) => `${(error as Error).message} ${((error as Error).cause as Error | undefined)?.message ?? ""}`;
    expect(refusal(await db.run(sql`update auth_events set event = 'x'`).catch((e: unknown) => e))).toMatch(/append-only/);
    expect(refusal(await db.run(sql`delete from auth_events`).catch((e: unknown) => e))).toMatch(/append-only/);
    expect(await rows()).toHaveLength(1);
  });

  it("receives every logAuthEvent once installed, and a walk through signup and login leaves no secret in it", async () => {
    const audit = createAuditLog(db);
    setAuthEventSink(audit.sink);
    const sent: MailMessage[] = [];
    const mailer: Mailer = { send: async (m) => void sent.push(m), verify: async () => {} };
    const accounts = wireServices({ db, store: new MemoryCodeStore(), mailer, config: testConfig }).accounts;
    const email = "walk@example.test";
    const password = "velvet hammock orbit lantern 42";
    const signup = await accounts.register(registerSchema(testConfig.passwordMinLength).parse({ name: "Ada", email, password }), { ip: "198.51.100.1" });
    expect(signup.ok).toBe(true);
    // The signup's own client verifies: with its registration token (lib/accounts/registrations.ts).
    const registration = signup.ok ? signup.registration : undefined;
    const verifyInput = (otp: string) => verifyInputSchema(testConfig.passwordMinLength).parse({ email, otp, registration });
    const code = extractCode({ text: sent.at(-1)!.text });
    await accounts.verifyEmail(verifyInput(String((Number(code) + 1) % 1_000_000).padStart(6, "0")), { ip: "198.51.100.1" });
    expect(await accounts.verifyEmail(verifyInput(code), { ip: "198.51.100.1" })).toMatchObject({ ok: true });
    await accounts.authenticate(loginSchema.parse({ email, password: "wrong password entirely" }), { ip: "198.51.100.1" });
    await accounts.authenticate(loginSchema.parse({ email, password }), { ip: "198.51.100.1" });
    logAuthEvent("login_failed", { reason: "wrong_password", email, otp: code });
    await audit.flush();

    const stored = await rows();
    expect(stored.map((r) => [r.event, r.outcome])).toEqual([
      ["registered", null],
      ["code_sent", null],
      ["verify_failed", "wrong_code"],
      ["verified", null],
      ["login_failed", "wrong_password"],
      ["login_ok", null],
      ["login_failed", "wrong_password"],
    ]);
    const dump = JSON.stringify(await db.all(sql`select * from auth_events`));
    expect(dump).not.toContain(email);
    expect(dump).not.toContain("@");
    expect(dump).not.toContain(code);
    expect(dump).not.toContain(password);
    expect(dump).not.toContain("198.51.100.1");
  });
});
