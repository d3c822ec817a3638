import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Database } from "@/db/client";
import type { User } from "@/db/schema";
import type { Accounts } from "@/lib/accounts/accounts";
import { emailId, sendLimits } from "@/lib/codes/limits";
import { loginSchema } from "@/lib/schemas";
import type { MemoryCodeStore } from "@/lib/store/memory";
import { totpCodeAt, type PendingEnrolment } from "@/lib/credentials/totp";
import { endStaffLogin, startStaffLogin, testConfig as config, type StaffLogin } from "@/testing/admin-fixtures";
import { clientContexts } from "@/testing/people";
import type { CapturingMailer } from "@/testing/service-harness";

/**
 * Wrong second-factor codes come after the right password: after SECOND_FACTOR_NOTICE_AFTER (3) in a row,
 * the staff account's address is told, once per run, within the address's send limits.
 */

const PASSWORD = "velvet hammock orbit lantern 42";
const STEP = 30_000;

let staffLogin: StaffLogin | undefined;
let db: Database;
let accounts: Accounts;
let store: MemoryCodeStore;
let mailer: CapturingMailer;
let staff: User;
let enrolment: PendingEnrolment;
let passwordHash: string;

const ctx = clientContexts("203.0.113.");
const login = (totp: string) => accounts.authenticate(loginSchema.parse({ email: staff.email, password: PASSWORD, totp }), ctx());
const rightCode = () => totpCodeAt(enrolment.secret, Date.now());
const wrongCode = () => String((Number(rightCode()) + 500_000) % 1_000_000).padStart(6, "0");
const notices = () => mailer.sent.filter((m) => m.to === staff.email && /wrong authenticator codes/i.test(m.subject));

beforeEach(async () => {
  staffLogin = await startStaffLogin("second-factor-notice-test", PASSWORD);
  ({ db, store, mailer, accounts, staff, enrolment, passwordHash } = staffLogin);
});

afterEach(() => endStaffLogin(staffLogin));

describe("a notice after repeated wrong second-factor codes", () => {
  it("the third wrong code in a row mails the account's address one notice, with no code; the fourth and fifth mail nothing more", async () => {
    expect(config.limits.secondFactorNoticeAfter).toBe(3);
    for (let i = 0; i < 2; i++) expect(await login(wrongCode())).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(notices()).toEqual([]);
    expect(await login(wrongCode())).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(notices()).toHaveLength(1);
    expect(notices()[0]!.text).not.toMatch(/\b\d{6}\b/);
    expect(notices()[0]!.text).not.toContain(enrolment.secret);
    for (let i = 0; i < 2; i++) await login(wrongCode());
    expect(notices()).toHaveLength(1);
  });

  it("a right code ends the run: two wrong, a right one, two wrong mail nothing", async () => {
    for (let i = 0; i < 2; i++) await login(wrongCode());
    expect((await login(rightCode())).ok).toBe(true);
    vi.setSystemTime(Date.now() + STEP);
    for (let i = 0; i < 2; i++) await login(wrongCode());
    expect(notices()).toEqual([]);
  });

  it("stays within the address's send limits: with its hourly budget spent, three wrong codes mail nothing", async () => {
    const limits = sendLimits(config, emailId(config.codes.hmacKey, staff.email), "verify_email").slice(1);
    for (let i = 0; i < config.limits.sendsPerHour; i++) await store.limits("record", limits);
    for (let i = 0; i < 3; i++) await login(wrongCode());
    expect(mailer.sent).toEqual([]);
  });
});
