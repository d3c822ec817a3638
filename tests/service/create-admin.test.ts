import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Database } from "@/db/client";
import { findUserByEmail } from "@/db/users";
import { insertPasskey, listPasskeys } from "@/db/passkeys";
import { createAdminReport, createOrPromoteStaff, newPasswordProblem, parseCreateAdminArgs } from "@/lib/staff/create-admin";
import { setAuthEventSink, type AuthEvent } from "@/lib/platform/log";
import { hashPassword, verifyPassword } from "@/lib/credentials/passwords";
import { checkSession, startSession } from "@/lib/sessions/sessions";
import { MemoryCodeStore } from "@/lib/store/memory";
import { createSecondFactor, totpCodeAt } from "@/lib/credentials/totp";
import { askHidden, askNewPassword, PromptCancelled } from "@/scripts/support/prompt";
import { freshDatabase, insertUser, issueEnrolmentCode, testConfig } from "@/testing/admin-fixtures";

const PASSWORD = "velvet hammock orbit lantern 42";
const rules = { minLength: testConfig.passwordMinLength, appName: testConfig.appName, email: "ops@example.test" };

describe("command-line arguments", () => {
  it("takes an email, a role (admin by default) and a name", () => {
    expect(parseCreateAdminArgs(["--email", " Ops@Example.TEST "])).toEqual({
      ok: true,
      input: { email: "ops@example.test", role: "admin", name: undefined, resetTotp: false, envFiles: [] },
    });
    expect(parseCreateAdminArgs(["--email", "ops@example.test", "--role", "staff", "--name", "Ops Team", "--reset-totp"])).toMatchObject({
      ok: true,
      input: { role: "staff", name: "Ops Team", resetTotp: true },
    });
  });

  it("never accepts a password on the command line, and refuses a bad email or role", () => {
    expect(parseCreateAdminArgs(["--email", "ops@example.test", "--password", PASSWORD])).toMatchObject({ ok: false });
    expect(parseCreateAdminArgs(["--email", "ops@example.test", `--password=${PASSWORD}`])).toMatchObject({ ok: false });
    expect(parseCreateAdminArgs([])).toMatchObject({ ok: false, message: expect.stringMatching(/--email/) });
    expect(parseCreateAdminArgs(["--email", "not-an-email"])).toMatchObject({ ok: false });
    expect(parseCreateAdminArgs(["--email", "ops@example.test", "--role", "customer"])).toMatchObject({
      ok: false,
      message: expect.stringMatching(/admin or staff/),
    });
    expect(parseCreateAdminArgs(["--help"])).toMatchObject({ ok: false, help: true });
  });
});

describe("the password rules (the signup rules, plus the confirmation)", () => {
  it("accepts a long uncommon password typed twice", () => {
    expect(newPasswordProblem(PASSWORD, PASSWORD, rules)).toBeUndefined();
  });
  it("refuses short, common, mismatched and name-based passwords", () => {
    expect(newPasswordProblem("short", "short", rules)).toMatch(/at least 15/);
    expect(newPasswordProblem(PASSWORD, `${PASSWORD}!`, rules)).toMatch(/do not match/);
    expect(newPasswordProblem("passwordpassword", "passwordpassword", rules)).toMatch(/common|repeated/);
    expect(newPasswordProblem("verified signup 2030!", "verified signup 2030!", rules)).toMatch(/too close/);
  });
});

/** A fake terminal: what is "typed" arrives as data once the prompt starts reading. */
function fakeTerminal() {
  const input = Object.assign(new PassThrough(), {
    isTTY: true,
    rawMode: false,
    setRawMode(mode: boolean) {
      this.rawMode = mode;
    },
  });
  const output = new PassThrough();
  let shown = "";
  output.on("data", (chunk) => (shown += String(chunk)));
  return { input, output, shown: () => shown };
}

describe("the hidden prompt", () => {
  it("reads a line in raw mode without echoing it; Backspace, Ctrl-U and arrow keys edit it", async () => {
    const term = fakeTerminal();
    const answer = askHidden("Password: ", term);
    expect(term.input.rawMode).toBe(true);
    term.input.write("wrongXX\u007f\u007f\u0015sec\u001b[Dret\r");
    expect(await answer).toBe("secret");
    expect(term.input.rawMode).toBe(false);
    expect(term.shown()).toBe("Password: \n");
  });

  it("cancels on Ctrl-C and refuses a stdin that is not a terminal", async () => {
    const term = fakeTerminal();
    const answer = askHidden("Password: ", term);
    term.input.write("abc\u0003");
    await expect(answer).rejects.toBeInstanceOf(PromptCancelled);
    await expect(askHidden("Password: ", { input: new PassThrough(), output: new PassThrough() })).rejects.toThrow(/not a TTY/);
  });

  it("asks twice, again after a problem, until the password is acceptable", async () => {
    const term = fakeTerminal();
    const answer = askNewPassword(term, (p, c) => newPasswordProblem(p, c, rules));
    const typeLine = async (text: string) => {
      await new Promise((r) => setImmediate(r));
      term.input.write(`${text}\r`);
    };
    await typeLine("short");
    await typeLine("short");
    await typeLine(PASSWORD);
    await typeLine(PASSWORD);
    expect(await answer).toEqual({ password: PASSWORD, confirmation: PASSWORD });
    expect(term.shown()).toMatch(/at least 15/);
    expect(term.shown()).not.toContain(PASSWORD);
  });
});

describe("createOrPromoteStaff", () => {
  let db: Database;
  let close: () => void;
  let store: MemoryCodeStore;
  let events: AuthEvent[];

  beforeEach(async () => {
    ({ db, close } = await freshDatabase("create-admin-test"));
    store = new MemoryCodeStore();
    events = [];
    setAuthEventSink((event) => events.push(event));
  });
  afterEach(() => {
    setAuthEventSink(undefined);
    close();
  });

  const deps = () => ({ db, store, config: testConfig });

  it("creates a verified, active admin with the password asked for", async () => {
    const ask = vi.fn(async () => ({ password: PASSWORD, confirmation: PASSWORD }));
    const result = await createOrPromoteStaff(deps(), { email: "ops@example.test", role: "admin", resetTotp: false }, ask);
    expect(ask).toHaveBeenCalledWith({ name: "ops", unverifiedSignup: false });
    expect(result.action).toBe("created");
    expect(result.enrolmentCode?.code).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
    const user = (await findUserByEmail(db, "ops@example.test"))!;
    expect(user).toMatchObject({ role: "admin", isActive: true, name: "ops" });
    expect(user.emailVerifiedAt).toBeInstanceOf(Date);
    expect(await verifyPassword(user.passwordHash, PASSWORD)).toBe(true);
    expect(events).toEqual(["admin_created", "enrolment_code_issued"]);
  });

  it("refuses a password that breaks the rules even if the prompt let it through", async () => {
    await expect(
      createOrPromoteStaff(deps(), { email: "ops@example.test", role: "staff", resetTotp: false }, async () => ({ password: "short", confirmation: "short" })),
    ).rejects.toThrow(/at least 15/);
    expect(await findUserByEmail(db, "ops@example.test")).toBeUndefined();
  });

  it("promotes a verified account keeping its password, ends its sessions, and prints an enrolment code", async () => {
    const existing = await insertUser(db, { email: "ops@example.test" });
    const session = await startSession(db, existing, Date.now());
    const ask = vi.fn();
    const result = await createOrPromoteStaff(deps(), { email: "ops@example.test", role: "staff", name: "Ops", resetTotp: false }, ask);
    expect(ask).not.toHaveBeenCalled();
    expect(result).toMatchObject({ action: "promoted", user: { role: "staff", isActive: true, name: "Ops", sessionVersion: existing.sessionVersion + 1 } });
    expect(result.user.emailVerifiedAt).toEqual(existing.emailVerifiedAt);
    expect(result.user.passwordHash).toBe(existing.passwordHash);
    expect(result.enrolmentCode).toBeDefined();
    expect(await checkSession({ db, store, config: testConfig.auth }, session, Date.now())).toBe("ended");
    expect(events).toEqual(["admin_promoted", "enrolment_code_issued"]);
  });

  it("promoting a customer removes the passkeys it added without a second factor, and the report says so", async () => {
    const existing = await insertUser(db, { email: "ops@example.test" });
    const passkey = {
      userId: existing.id,
      publicKey: "pk",
      counter: 0,
      transports: "[]",
      deviceType: "singleDevice" as const,
      backedUp: false,
      name: "Laptop",
      createdAt: new Date(),
    };
    await insertPasskey(db, { ...passkey, id: "cred-1" });
    await insertPasskey(db, { ...passkey, id: "cred-2" });
    const result = await createOrPromoteStaff(deps(), { email: "ops@example.test", role: "admin", resetTotp: false }, vi.fn());
    expect(await listPasskeys(db, existing.id)).toEqual([]);
    expect(result).toMatchObject({ action: "promoted", passkeysRemoved: 2 });
    expect(createAdminReport(result).join("\n")).toMatch(/Its 2 passkeys were removed/);
    expect(events).toEqual(["admin_promoted", "passkeys_removed", "enrolment_code_issued"]);
  });

  it("an address nobody verified: the signup's password and name are replaced by the typed ones, and the report says so", async () => {
    const existing = await insertUser(db, {
      email: "ops@example.test",
      verified: false,
      name: "Mallory",
      passwordHash: await hashPassword("attacker chose this one 99"),
    });
    const session = await startSession(db, existing, Date.now());
    const ask = vi.fn(async () => ({ password: PASSWORD, confirmation: PASSWORD }));
    const result = await createOrPromoteStaff(deps(), { email: "ops@example.test", role: "admin", resetTotp: false }, ask);
    expect(ask).toHaveBeenCalledWith({ name: "ops", unverifiedSignup: true });
    expect(result).toMatchObject({ action: "reclaimed", user: { role: "admin", isActive: true, name: "ops", sessionVersion: existing.sessionVersion + 1 } });
    expect(result.user.emailVerifiedAt).toBeInstanceOf(Date);
    const user = (await findUserByEmail(db, "ops@example.test"))!;
    expect(await verifyPassword(user.passwordHash, "attacker chose this one 99")).toBe(false);
    expect(await verifyPassword(user.passwordHash, PASSWORD)).toBe(true);
    expect(await checkSession({ db, store, config: testConfig.auth }, session, Date.now())).toBe("ended");
    expect(events).toEqual(["admin_reclaimed", "enrolment_code_issued"]);
    const report = createAdminReport(result).join("\n");
    expect(report).toMatch(/never verified: the password and name chosen at that signup were discarded/);
    expect(report).toContain(`Enrolment code: ${result.enrolmentCode!.code}`);
    expect(report).not.toContain(PASSWORD);
  });

  it("an address nobody verified, with a password that breaks the rules: nothing changes", async () => {
    const existing = await insertUser(db, { email: "ops@example.test", verified: false });
    await expect(
      createOrPromoteStaff(deps(), { email: "ops@example.test", role: "admin", resetTotp: false }, async () => ({ password: "short", confirmation: "short" })),
    ).rejects.toThrow(/at least 15/);
    expect(await findUserByEmail(db, "ops@example.test")).toEqual(existing);
  });

  it("--reset-totp removes an enrolled authenticator", async () => {
    const existing = await insertUser(db, { email: "ops@example.test", role: "admin" });
    const factor = createSecondFactor({ db, config: testConfig });
    const pending = (await factor.pendingEnrolment(existing))!;
    await factor.confirmEnrolment(existing.id, totpCodeAt(pending.secret, Date.now()), await issueEnrolmentCode(db, existing.id));
    expect(await factor.isEnabled(existing.id)).toBe(true);
    const kept = await createOrPromoteStaff(deps(), { email: "ops@example.test", role: "admin", resetTotp: false }, vi.fn());
    expect(kept.enrolmentCode).toBeUndefined();
    expect(createAdminReport(kept).join("\n")).toMatch(/authenticator app stays on/);
    const result = await createOrPromoteStaff(deps(), { email: "ops@example.test", role: "admin", resetTotp: true }, vi.fn());
    expect(result.totpReset).toBe(true);
    expect(result.enrolmentCode).toBeDefined();
    expect(await factor.isEnabled(existing.id)).toBe(false);
  });
});
