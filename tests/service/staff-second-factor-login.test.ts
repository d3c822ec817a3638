import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "@/db/client";
import type { User } from "@/db/schema";
import { extractCode } from "@/testing/mailbox";
import type { Accounts } from "@/lib/accounts/accounts";
import type { Services } from "@/lib/platform/runtime";
import { createRecovery } from "@/lib/accounts/recovery";
import { loginSchema } from "@/lib/schemas";
import type { MemoryCodeStore } from "@/lib/store/memory";
import { totpCodeAt, type PendingEnrolment } from "@/lib/credentials/totp";
import { endStaffLogin, insertUser, startStaffLogin, testConfig, type StaffLogin } from "@/testing/admin-fixtures";
import { clientContexts, wrongCodeFor } from "@/testing/people";
import type { CapturingMailer } from "@/testing/service-harness";

/**
 * accounts.authenticate for staff and admin with a second factor: every password login passes through it,
 * so the code is asked for there; a wrong code spends the same login budget as a wrong password.
 */

const PASSWORD = "velvet hammock orbit lantern 42";
const STEP = 30_000;
const config = testConfig;

let staffLogin: StaffLogin | undefined;
let db: Database;
let accounts: Accounts;
let services: Services;
let store: MemoryCodeStore;
let mailer: CapturingMailer;
let staff: User;
let enrolment: PendingEnrolment;
let passwordHash: string;

const ctx = clientContexts("203.0.113.");
const login = (email: string, password: string, totp?: string) =>
  accounts.authenticate(loginSchema.parse({ email, password, ...(totp === undefined ? {} : { totp }) }), ctx());
const codeNow = (offsetSteps = 0) => totpCodeAt(enrolment.secret, Date.now() + offsetSteps * STEP);

beforeEach(async () => {
  staffLogin = await startStaffLogin("staff-login-test", PASSWORD);
  ({ db, store, mailer, services, accounts, staff, enrolment, passwordHash } = staffLogin);
});

afterEach(() => endStaffLogin(staffLogin));

describe("authenticate for staff with a second factor", () => {
  it("asks for the code after a right password, without saying anything before the password is right", async () => {
    expect(await login(staff.email, PASSWORD)).toEqual({ ok: false, reason: "totp_required" });
    expect(await login(staff.email, "not the password at all")).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await login(staff.email, "not the password at all", codeNow())).toEqual({ ok: false, reason: "invalid_credentials" });
    // An empty code field is no code.
    expect(await login(staff.email, PASSWORD, "  ")).toEqual({ ok: false, reason: "totp_required" });
  });

  it("signs in with the password and a current code, with mfa set", async () => {
    const result = await login(staff.email, PASSWORD, codeNow());
    expect(result).toMatchObject({ ok: true, mfa: true, user: { id: staff.id, role: "staff" } });
  });

  it("refuses a wrong code and a replayed one as a failed login", async () => {
    expect(await login(staff.email, PASSWORD, wrongCodeFor(codeNow()))).toEqual({ ok: false, reason: "invalid_credentials" });
    const code = codeNow();
    expect(await login(staff.email, PASSWORD, code)).toMatchObject({ ok: true, mfa: true });
    expect(await login(staff.email, PASSWORD, code)).toEqual({ ok: false, reason: "invalid_credentials" });
  });

  it("accepts a recovery code once", async () => {
    const recovery = enrolment.recoveryCodes[3]!;
    expect(await login(staff.email, PASSWORD, recovery)).toMatchObject({ ok: true, mfa: true });
    expect(await login(staff.email, PASSWORD, recovery)).toEqual({ ok: false, reason: "invalid_credentials" });
  });

  it("wrong codes spend the login budget, and a right password does not clear it", async () => {
    for (let i = 0; i < config.limits.loginFailuresPerAccount; i++) {
      expect(await login(staff.email, PASSWORD, wrongCodeFor(codeNow()))).toEqual({ ok: false, reason: "invalid_credentials" });
    }
    // Even the right password and code now wait: guessing codes is throttled like guessing passwords.
    expect(await login(staff.email, PASSWORD, codeNow())).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(await login(staff.email, PASSWORD)).toMatchObject({ ok: false, reason: "rate_limited" });
  });

  it("a right password without the code clears nothing: only a login with both factors does", async () => {
    for (let i = 0; i < config.limits.loginFailuresPerAccount - 2; i++) await login(staff.email, PASSWORD, wrongCodeFor(codeNow()));
    expect(await login(staff.email, PASSWORD)).toEqual({ ok: false, reason: "totp_required" });
    expect(await login(staff.email, PASSWORD, wrongCodeFor(codeNow()))).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await login(staff.email, PASSWORD, codeNow())).toMatchObject({ ok: false, reason: "rate_limited" });
  });

  it("a login with both factors clears the failures counted before", async () => {
    for (let i = 0; i < config.limits.loginFailuresPerAccount - 1; i++) await login(staff.email, PASSWORD, wrongCodeFor(codeNow()));
    expect(await login(staff.email, PASSWORD, codeNow())).toMatchObject({ ok: true, mfa: true });
    for (let i = 0; i < config.limits.loginFailuresPerAccount - 1; i++) {
      expect(await login(staff.email, PASSWORD, wrongCodeFor(codeNow()))).toEqual({ ok: false, reason: "invalid_credentials" });
    }
  });

  it("a password reset does not bypass the second factor", async () => {
    const recovery = createRecovery({ db, store, mailer, config, now: () => Date.now() }, services);
    expect(await recovery.requestPasswordReset(staff.email, ctx())).toEqual({ ok: true });
    const code = extractCode({ text: mailer.sent.filter((m) => m.to === staff.email).at(-1)!.text });
    const NEW_PASSWORD = "quiet meadow copper violin 77";
    expect(await recovery.resetPassword({ email: staff.email, otp: code, password: NEW_PASSWORD }, ctx())).toMatchObject({ ok: true });
    expect(await login(staff.email, NEW_PASSWORD)).toEqual({ ok: false, reason: "totp_required" });
    expect(await login(staff.email, NEW_PASSWORD, codeNow())).toMatchObject({ ok: true, mfa: true });
  });
});

describe("authenticate without a second factor", () => {
  it("staff who have not enrolled sign in with mfa false (and /admin sends them to enrolment)", async () => {
    const fresh = await insertUser(db, { email: "new-staff@example.test", role: "admin", passwordHash });
    expect(await login(fresh.email, PASSWORD)).toMatchObject({ ok: true, mfa: false, user: { id: fresh.id } });
  });

  it("customers are not asked, and a code they send changes nothing", async () => {
    const customer = await insertUser(db, { email: "customer@example.test", passwordHash });
    expect(await login(customer.email, PASSWORD)).toMatchObject({ ok: true, mfa: false });
    expect(await login(customer.email, PASSWORD, "123456")).toMatchObject({ ok: true, mfa: false });
  });
});
