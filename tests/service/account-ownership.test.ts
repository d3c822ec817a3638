import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { authEvents, NO_PASSWORD, recoveryCodes, sessions, totpCredentials, users } from "@/db/schema";
import { findUserByEmail } from "@/db/users";
import type { createAccountData } from "@/lib/accounts/account-data";
import type { createAccounts } from "@/lib/accounts/accounts";
import { wireServices, type Services } from "@/lib/platform/runtime";
import { createAuditLog } from "@/lib/platform/audit";
import { codeKey } from "@/lib/codes/codes";
import { parseConfig } from "@/lib/platform/config";
import { setAuthEventSink } from "@/lib/platform/log";
import type { createOwnSecondFactor } from "@/lib/accounts/own-second-factor";
import type { createRecovery } from "@/lib/accounts/recovery";
import { loginSchema, registerSchema, verifyInputSchema } from "@/lib/schemas";
import { checkSession, startSession } from "@/lib/sessions/sessions";
import { MemoryCodeStore } from "@/lib/store/memory";
import { totpCodeAt } from "@/lib/credentials/totp";
import { advance, CapturingMailer, serviceHarness, startFakeClock } from "@/testing/service-harness";
import { clientContexts, wrongCodeFor } from "@/testing/people";

/**
 * What a person controls about their own account, at the service level: a second factor (customers turn
 * TOTP on with their password and a mailed code; password logins then ask for it), deleting the account
 * (password and a mailed code; nothing of the person remains but anonymous audit rows), and a copy of
 * their data (nothing secret). A real libSQL database, the in-process store, a fake clock on Date.
 */

const config = parseConfig({ NODE_ENV: "test", AUTH_SECRET: "test-secret-for-account-ownership", SIGN_IN_BY_CODE: "true" });
const PASSWORD = "correct horse battery staple";
const SECOND = 1000;
const COOLDOWN_MS = config.codes.resendCooldownSeconds * SECOND;

const harness = serviceHarness("account-ownership-test");
let handle: Awaited<ReturnType<typeof harness.freshDatabase>>;
let mailer: CapturingMailer;
let store: MemoryCodeStore;
let accounts: ReturnType<typeof createAccounts>;
let services: Services;
let recovery: ReturnType<typeof createRecovery>;
let twoFactor: ReturnType<typeof createOwnSecondFactor>;
let data: ReturnType<typeof createAccountData>;
let audit: ReturnType<typeof createAuditLog>;

beforeEach(async () => {
  handle = await harness.freshDatabase();
  mailer = new CapturingMailer();
  store = new MemoryCodeStore();
  startFakeClock();
  const deps = { db: handle.db, store, mailer, config, now: () => Date.now(), defer: harness.defer };
  services = wireServices(deps);
  accounts = services.accounts;
  recovery = services.recovery;
  twoFactor = services.ownSecondFactor;
  data = services.accountData;
  audit = createAuditLog(handle.db);
  setAuthEventSink(audit.sink);
});

// Before the harness closes the test's database (after-each hooks run last-registered first).
afterEach(async () => {
  await audit.flush();
  setAuthEventSink(undefined);
});

const ctx = clientContexts("198.51.100.");
const login = (email: string, password = PASSWORD, totp?: string) => accounts.authenticate(loginSchema.parse({ email, password, totp }), ctx());

async function verifiedAccount(email: string, role: "customer" | "staff" | "admin" = "customer"): Promise<string> {
  const registered = await accounts.register(registerSchema(config.passwordMinLength).parse({ name: "Ada Lovelace", email, password: PASSWORD }), ctx());
  if (!registered.ok) throw new Error("register failed");
  const verified = await accounts.verifyEmail(
    verifyInputSchema(config.passwordMinLength).parse({ email, otp: mailer.lastCode(email), registration: registered.registration }),
    ctx(),
  );
  expect(verified.ok).toBe(true);
  const user = (await findUserByEmail(handle.db, email))!;
  if (role !== "customer") await handle.db.update(users).set({ role }).where(eq(users.id, user.id));
  advance(COOLDOWN_MS + SECOND);
  return user.id;
}

/** Turns TOTP on for a customer, as the page does: password, then the app's code and the mailed code. The secret. */
async function enabledTotp(userId: string, email: string): Promise<string> {
  const started = await twoFactor.start(userId, PASSWORD, ctx());
  if (!started.ok) throw new Error(`start refused: ${started.reason}`);
  const confirmed = await twoFactor.confirm(userId, { code: totpCodeAt(started.enrolment.secret, Date.now()), emailCode: mailer.lastCode(email) }, ctx());
  expect(confirmed).toMatchObject({ ok: true });
  advance(31 * SECOND); // the enrolment's time-step is spent: the next code is the app's next one
  return started.enrolment.secret;
}

describe("a customer's second factor", () => {
  it("once on, a password login asks for it; the right app code (or a recovery code) signs in, a wrong one does not", async () => {
    const email = "ada@example.com";
    const id = await verifiedAccount(email);
    expect(await login(email)).toMatchObject({ ok: true, mfa: false });
    const started = await twoFactor.start(id, PASSWORD, ctx());
    if (!started.ok) throw new Error("start refused");
    const { secret, recoveryCodes: codes } = started.enrolment;
    expect(await twoFactor.confirm(id, { code: totpCodeAt(secret, Date.now()), emailCode: mailer.lastCode(email) }, ctx())).toMatchObject({ ok: true });
    advance(31 * SECOND);

    expect(await login(email)).toEqual({ ok: false, reason: "totp_required" });
    expect(await login(email, PASSWORD, "000000")).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await login(email, PASSWORD, totpCodeAt(secret, Date.now()))).toMatchObject({ ok: true, mfa: true });
    expect(await login(email, PASSWORD, codes[0])).toMatchObject({ ok: true, mfa: true });
    expect(await login(email, PASSWORD, codes[0])).toEqual({ ok: false, reason: "invalid_credentials" });
  });

  it("enrolment needs the password: a wrong one sends no code and starts nothing", async () => {
    const email = "ada@example.com";
    const id = await verifiedAccount(email);
    const before = mailer.sent.length;
    expect(await twoFactor.start(id, "not the password at all, no", ctx())).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(mailer.sent.length).toBe(before);
    expect(await twoFactor.pending(id)).toBeUndefined();
    expect(await handle.db.select().from(totpCredentials)).toEqual([]);
  });

  it("enrolment needs the mailed code: the app's code alone, a wrong or a missing mailed code turn nothing on", async () => {
    const email = "ada@example.com";
    const id = await verifiedAccount(email);
    const started = await twoFactor.start(id, PASSWORD, ctx());
    if (!started.ok) throw new Error("start refused");
    const mailed = mailer.lastCode(email);
    expect(mailer.last(email).subject).toMatch(/turn on two-factor authentication/i);
    const appCode = totpCodeAt(started.enrolment.secret, Date.now());
    expect(await twoFactor.confirm(id, { code: appCode, emailCode: wrongCodeFor(mailed) }, ctx())).toEqual({ ok: false, reason: "email_code_wrong" });
    expect((await twoFactor.status(id)).enabled).toBe(false);
    expect(await login(email)).toMatchObject({ ok: true });
    // A wrong app code is refused before the mailed code is tried, so it does not spend the mailed code's tries.
    expect(await twoFactor.confirm(id, { code: wrongCodeFor(appCode), emailCode: mailed }, ctx())).toEqual({ ok: false, reason: "wrong_code" });
    expect(await twoFactor.confirm(id, { code: appCode, emailCode: mailed }, ctx())).toMatchObject({ ok: true });
  });

  it("a mailed code for another purpose (deletion) does not turn it on, and an enrolment code does not delete the account", async () => {
    const email = "ada@example.com";
    const id = await verifiedAccount(email);
    expect(await data.requestDeletion(id, PASSWORD, ctx())).toMatchObject({ ok: true });
    const deletionCode = mailer.lastCode(email);
    advance(COOLDOWN_MS + SECOND);
    const started = await twoFactor.start(id, PASSWORD, ctx());
    if (!started.ok) throw new Error("start refused");
    const enrolmentCode = mailer.lastCode(email);
    const appCode = totpCodeAt(started.enrolment.secret, Date.now());
    if (deletionCode !== enrolmentCode) {
      expect(await twoFactor.confirm(id, { code: appCode, emailCode: deletionCode }, ctx())).toEqual({ ok: false, reason: "email_code_wrong" });
      expect(await data.deleteAccount(id, enrolmentCode, ctx())).toEqual({ ok: false, reason: "wrong_code" });
    }
    expect(await findUserByEmail(handle.db, email)).toBeDefined();
    expect((await twoFactor.status(id)).enabled).toBe(false);
  });

  it("with it on, sign-in by an emailed code is closed: no code is mailed and none signs in (the code would be one factor)", async () => {
    const email = "ada@example.com";
    const id = await verifiedAccount(email);
    await enabledTotp(id, email);
    const before = mailer.sent.length;
    expect(await recovery.requestSignInCode(email, ctx())).toEqual({ ok: true });
    await harness.settle();
    expect(mailer.sent.length).toBe(before);
  });

  it("turning it off takes the password and an app code; a wrong app code changes nothing", async () => {
    const email = "ada@example.com";
    const id = await verifiedAccount(email);
    const secret = await enabledTotp(id, email);
    expect(await twoFactor.disable(id, { password: PASSWORD, code: "000000" }, ctx())).toEqual({ ok: false, reason: "wrong_code" });
    expect(await twoFactor.disable(id, { password: "not the password at all, no", code: totpCodeAt(secret, Date.now()) }, ctx())).toEqual({
      ok: false,
      reason: "invalid_credentials",
    });
    expect((await twoFactor.status(id)).enabled).toBe(true);
    expect(await twoFactor.disable(id, { password: PASSWORD, code: totpCodeAt(secret, Date.now()) }, ctx())).toEqual({ ok: true });
    expect(await login(email)).toMatchObject({ ok: true, mfa: false });
  });

  it("staff keep their own enrolment (an operator's code): the customer flow refuses them", async () => {
    const id = await verifiedAccount("staff@example.com", "staff");
    expect(await twoFactor.start(id, PASSWORD, ctx())).toEqual({ ok: false, reason: "not_allowed" });
  });
});

describe("deleting the account", () => {
  it("takes the password and a mailed code; then nothing of the person remains but audit rows without address or name; every session ends; a notice goes out", async () => {
    const email = "ada@example.com";
    const id = await verifiedAccount(email);
    await enabledTotp(id, email);
    advance(COOLDOWN_MS + SECOND);
    const deps = { db: handle.db, store, config: config.auth };
    // Turning TOTP on ended every earlier session: these two are opened after it.
    const { sessionVersion } = (await findUserByEmail(handle.db, email))!;
    const a = await startSession(handle.db, { id, sessionVersion }, Date.now(), { userAgent: "Firefox", ipPrefix: "198.51.100.0/24" });
    const b = await startSession(handle.db, { id, sessionVersion }, Date.now());
    expect(await checkSession(deps, a, Date.now())).toBe("ok");

    expect(await data.requestDeletion(id, "not the password at all, no", ctx())).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await data.requestDeletion(id, PASSWORD, ctx())).toEqual({ ok: true, delivery: "sent" });
    const code = mailer.lastCode(email);
    expect(mailer.last(email).subject).toMatch(/delete your account/i);
    expect(await data.deleteAccount(id, wrongCodeFor(code), ctx())).toEqual({ ok: false, reason: "wrong_code" });
    expect(await findUserByEmail(handle.db, email)).toBeDefined();
    expect(await data.deleteAccount(id, code, ctx())).toEqual({ ok: true });

    expect(await handle.db.select().from(users)).toEqual([]);
    expect(await handle.db.select().from(sessions)).toEqual([]);
    expect(await handle.db.select().from(totpCredentials)).toEqual([]);
    expect(await handle.db.select().from(recoveryCodes)).toEqual([]);
    expect(await checkSession(deps, a, Date.now())).toBe("ended");
    store = new MemoryCodeStore(); // and when the store has lost its data
    expect(await checkSession({ ...deps, store }, b, Date.now())).toBe("ended");
    expect(mailer.last(email).subject).toMatch(/account was deleted/i);

    await audit.flush();
    const rows = await handle.db.select().from(authEvents);
    expect(rows.map((r) => r.event)).toContain("account_deleted");
    expect(JSON.stringify(rows)).not.toMatch(/ada@example\.com|Ada|Lovelace|198\.51\.100/);
    // The user can sign up again with the address, as a new account.
    expect(await login(email)).toEqual({ ok: false, reason: "invalid_credentials" });
  });

  it("removes the address's and the account's code records from the store", async () => {
    const email = "ada@example.com";
    const id = await verifiedAccount(email);
    expect(await recovery.requestPasswordReset(email, ctx())).toEqual({ ok: true });
    await harness.settle();
    const resetCode = mailer.lastCode(email);
    advance(COOLDOWN_MS + SECOND);
    await data.requestDeletion(id, PASSWORD, ctx());
    expect(await data.deleteAccount(id, mailer.lastCode(email), ctx())).toEqual({ ok: true });
    const key = codeKey(services.codes.idOf(email), "reset_password");
    const outcome = await store.consumeCode(key, { codeHash: "x", now: Date.now(), maxAttempts: 5, failureLimits: [] });
    expect(outcome.status).toBe("missing");
    expect(resetCode).toMatch(/^\d{6}$/);
  });

  it("the last active admin cannot delete themselves (no code is sent); with another admin they can", async () => {
    const id = await verifiedAccount("admin@example.com", "admin");
    const before = mailer.sent.length;
    expect(await data.requestDeletion(id, PASSWORD, ctx())).toEqual({ ok: false, reason: "last_admin" });
    expect(mailer.sent.length).toBe(before);
    await verifiedAccount("second-admin@example.com", "admin");
    expect(await data.requestDeletion(id, PASSWORD, ctx())).toEqual({ ok: true, delivery: "sent" });
    expect(await data.deleteAccount(id, mailer.lastCode("admin@example.com"), ctx())).toEqual({ ok: true });
    expect(await findUserByEmail(handle.db, "admin@example.com")).toBeUndefined();
  });

  it("an admin whose code was sent while another admin existed still cannot go once they are the last", async () => {
    const id = await verifiedAccount("admin@example.com", "admin");
    const other = await verifiedAccount("second-admin@example.com", "admin");
    expect(await data.requestDeletion(id, PASSWORD, ctx())).toMatchObject({ ok: true });
    await handle.db.update(users).set({ isActive: false }).where(eq(users.id, other));
    expect(await data.deleteAccount(id, mailer.lastCode("admin@example.com"), ctx())).toEqual({ ok: false, reason: "last_admin" });
    expect(await findUserByEmail(handle.db, "admin@example.com")).toBeDefined();
  });
});

describe("an account without a password yet (it signed in by an emailed code)", () => {
  it("is told so where the password is asked again (ending other sessions, deleting the account), and nothing changes", async () => {
    const [user] = await handle.db
      .insert(users)
      .values({ id: crypto.randomUUID(), email: "codeonly@example.test", name: "", passwordHash: NO_PASSWORD, isActive: true, emailVerifiedAt: new Date() })
      .returning();
    const mine = await startSession(handle.db, user!, Date.now());
    const other = await startSession(handle.db, user!, Date.now());
    const asked = { currentId: mine.sid, password: "any password at all", context: ctx() };
    await expect(services.sessionList.endOthers(user!.id, asked, Date.now())).resolves.toEqual({ ok: false, reason: "no_password" });
    await expect(services.sessionList.endOne(user!.id, other.sid, asked, Date.now())).resolves.toEqual({ ok: false, reason: "no_password" });
    await expect(data.requestDeletion(user!.id, "any password at all", ctx())).resolves.toEqual({ ok: false, reason: "no_password" });
    expect(await checkSession({ db: handle.db, store, config: config.auth }, other, Date.now())).toBe("ok");
    expect(mailer.sent).toHaveLength(0);
  });
});

describe("downloading one's data", () => {
  it("holds the profile, the sessions and the security events, and nothing secret (no hash, no TOTP secret, no recovery code)", async () => {
    const email = "ada@example.com";
    const id = await verifiedAccount(email);
    const started = await twoFactor.start(id, PASSWORD, ctx());
    if (!started.ok) throw new Error("start refused");
    const { secret, recoveryCodes: codes } = started.enrolment;
    await twoFactor.confirm(id, { code: totpCodeAt(secret, Date.now()), emailCode: mailer.lastCode(email) }, ctx());
    await startSession(handle.db, { id, sessionVersion: 0 }, Date.now(), { userAgent: "Firefox/133.0", ipPrefix: "198.51.100.0/24" });
    await audit.flush();

    const exported = await data.exportData(id);
    expect(exported!.profile).toMatchObject({ id, email, name: "Ada Lovelace", role: "customer", active: true, hasPassword: true });
    expect(exported!.secondFactor).toEqual({ enabled: true, recoveryCodesLeft: 10 });
    expect(exported!.sessions).toEqual([expect.objectContaining({ userAgent: "Firefox/133.0", network: "198.51.100.0/24", endedAt: null })]);
    expect(exported!.securityEvents.map((e) => e.event)).toEqual(expect.arrayContaining(["registered", "verified", "totp_enrolled"]));

    const text = JSON.stringify(exported);
    const [user] = await handle.db.select().from(users).where(eq(users.id, id));
    const [credential] = await handle.db.select().from(totpCredentials).where(eq(totpCredentials.userId, id));
    expect(text).not.toContain(user!.passwordHash);
    expect(text).not.toContain("argon2");
    expect(text).not.toContain(secret);
    expect(text).not.toContain(credential!.secretCiphertext);
    for (const code of codes) expect(text).not.toContain(code);
    expect(text).not.toMatch(/sessionVersion|codeHash|secretCiphertext|password_hash/i);
  });
});
