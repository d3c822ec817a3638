import { performance } from "node:perf_hooks";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { NO_PASSWORD, users, type Role } from "@/db/schema";
import { findUserByEmail, findUserById } from "@/db/users";
import { extractCode } from "@/testing/mailbox";
import type { createAccountSettings } from "@/lib/accounts/account-settings";
import type { createAccounts } from "@/lib/accounts/accounts";
import { wireServices, type Services } from "@/lib/platform/runtime";
import { CODE_PURPOSES, type CodePurpose } from "@/lib/codes/codes";
import { parseConfig, type AppConfig } from "@/lib/platform/config";
import type { MailMessage } from "@/lib/mail/mailer";
import { hashPassword } from "@/lib/credentials/passwords";
import type { createRecovery } from "@/lib/accounts/recovery";
import {
  changeEmailSchema,
  changePasswordSchema,
  emailOnlySchema,
  loginSchema,
  otpOnlySchema,
  registerSchema,
  resendSchema,
  resetPasswordSchema,
  verifyInputSchema,
  verifySchema,
} from "@/lib/schemas";
import { checkSession, startSession } from "@/lib/sessions/sessions";
import { MemoryCodeStore } from "@/lib/store/memory";
import { advance, CapturingMailer, serviceHarness, startFakeClock } from "@/testing/service-harness";
import { clientContexts, wrongCodeFor } from "@/testing/people";
import { SignupTokens, withoutToken } from "@/testing/signups";

/**
 * The proof at the service level: every purpose of the one code machinery (verify email, reset
 * password, change email, sign in), wired as lib/platform/runtime.ts wires them (createAccounts, then
 * createRecovery and createAccountSettings over the same dependencies and accounts), against a real
 * libSQL file database, the in-process code store, a capturing mailer and a fake clock.
 *
 * The clock is faked with vi.setSystemTime (Date only; real timers keep running for libSQL and argon2):
 * the store reads Date.now() for its rate-limit counters. Inputs go through the schemas the adapters use.
 */

const SECRET = "test-secret-for-purposes-tests";
/** Sign-in by code on, as SIGN_IN_BY_CODE=true; the same secret, so the same code keys. */
const config = parseConfig({ NODE_ENV: "test", AUTH_SECRET: SECRET, SIGN_IN_BY_CODE: "true" });
const defaultConfig = parseConfig({ NODE_ENV: "test", AUTH_SECRET: SECRET });

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const COOLDOWN_MS = config.codes.resendCooldownSeconds * SECOND;
const TTL_MS = config.codes.ttlSeconds * SECOND;
const LOGIN_WINDOW_MS = config.limits.loginFailureWindowSeconds * SECOND;

const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "velvet hammock orbit lantern 42";
const OTHER_PASSWORD = "a different long passphrase";
/** 16 characters, long enough for the schema, but on the common-password list. */
const COMMON_PASSWORD = "1qaz2wsx3edc4rfv";

const harness = serviceHarness("purposes-test");
const settle = harness.settle;

let handle: Awaited<ReturnType<typeof harness.freshDatabase>>;
let mailer: CapturingMailer;
let store: MemoryCodeStore;
let accounts: ReturnType<typeof createAccounts>;
let services: Services;
let recovery: ReturnType<typeof createRecovery>;
let settings: ReturnType<typeof createAccountSettings>;
let tokens: SignupTokens;

/** As lib/platform/runtime.ts: one set of dependencies, the account service, and the two services built on it. */
function wire(cfg: AppConfig) {
  const deps = { db: handle.db, store, mailer, config: cfg, now: () => Date.now(), defer: harness.defer };
  services = wireServices(deps);
  accounts = services.accounts;
  recovery = services.recovery;
  settings = services.settings;
}

beforeEach(async () => {
  handle = await harness.freshDatabase();
  mailer = new CapturingMailer();
  store = new MemoryCodeStore();
  tokens = new SignupTokens();
  startFakeClock();
  wire(config);
});

/** Each request from its own address unless a test says otherwise: per-IP caps are not what these tests are about. */
const ctx = clientContexts("198.51.100.");

// ---- The adapters' calls, through the adapters' schemas ---------------------------------------------------

// Each signup's client keeps its registration token and shows it when it verifies (testing/signups.ts).
const register = async (email: string, password = PASSWORD, name = "Ada Lovelace") =>
  tokens.remember(await accounts.register(registerSchema(config.passwordMinLength).parse({ name, email, password }), ctx()));
const verify = (email: string, otp: string, extra: { registration?: string; name?: string; password?: string } = { registration: tokens.of(email) }) =>
  accounts.verifyEmail(verifyInputSchema(config.passwordMinLength).parse({ email, otp, ...extra }), ctx());
const resend = (email: string) => accounts.resendCode(resendSchema.parse({ email }).email, ctx());
const login = (email: string, password: string) => accounts.authenticate(loginSchema.parse({ email, password }), ctx());

/** The answer alone, as the person waits for it; the mail goes out after it. */
const requestResetAnswer = (email: string) => recovery.requestPasswordReset(emailOnlySchema.parse({ email }).email, ctx());
const requestReset = async (email: string) => {
  const result = await requestResetAnswer(email);
  await settle();
  return result;
};
const reset = (email: string, otp: string, password = NEW_PASSWORD) =>
  recovery.resetPassword(resetPasswordSchema(config.passwordMinLength).parse({ email, otp, password }), ctx());
const requestSignInCode = async (email: string) => {
  const result = await recovery.requestSignInCode(emailOnlySchema.parse({ email }).email, ctx());
  await settle();
  return result;
};
const signInWithCode = (email: string, otp: string) => recovery.signInWithCode(verifySchema.parse({ email, otp }), ctx());

const changePassword = (userId: string, currentPassword: string | undefined, newPassword: string) =>
  settings.changePassword(userId, changePasswordSchema(config.passwordMinLength).parse({ currentPassword, newPassword }), ctx());
const requestEmailChange = (userId: string, newEmail: string, password = PASSWORD) =>
  settings.requestEmailChange(userId, changeEmailSchema.parse({ newEmail, password }), ctx());
const confirmEmailChange = (userId: string, otp: string) => settings.confirmEmailChange(userId, otpOnlySchema.parse({ otp }), ctx());

// ---- Set-up ---------------------------------------------------------------------------------------------

/** Registers (unverified) and returns the account's id and its verification code. */
async function unverifiedAccount(email: string, password = PASSWORD): Promise<{ id: string; code: string }> {
  expect(withoutToken(await register(email, password))).toEqual({ ok: true, email, delivery: "sent" });
  const user = await findUserByEmail(handle.db, email);
  return { id: user!.id, code: mailer.lastCode(email) };
}

/** Registers and verifies; the clock then moves past the send cooldown, so the next code can go out. */
async function verifiedAccount(email: string, password = PASSWORD): Promise<string> {
  const { id, code } = await unverifiedAccount(email, password);
  expect((await verify(email, code)).ok).toBe(true);
  advance(COOLDOWN_MS + SECOND);
  return id;
}

/**
 * A live change_email code for an account that cannot ask for one itself: an unverified account has no
 * password to confirm the request with (lib/accounts/account-settings.ts), so the code is issued exactly as
 * requestEmailChange issues it, to test what a code of that purpose does where it meets the others.
 */
async function issueEmailChangeCode(accountId: string, newEmail: string): Promise<string> {
  expect(await requestEmailChange(accountId, newEmail)).toEqual({ ok: false, reason: "invalid_credentials" });
  const sent = await services.codes.issue({ purpose: "change_email", accountId, to: newEmail, payload: JSON.stringify({ newEmail }) });
  expect(sent).toEqual({ status: "sent" });
  return mailer.lastCode(newEmail);
}

/** A verified, active staff or admin account made directly (as npm run create-admin does). */
async function privilegedAccount(email: string, role: Role): Promise<string> {
  const [row] = await handle.db
    .insert(users)
    .values({
      id: crypto.randomUUID(),
      email,
      name: "Grace Hopper",
      passwordHash: await hashPassword(PASSWORD),
      role,
      isActive: true,
      emailVerifiedAt: new Date(),
    })
    .returning();
  return row!.id;
}

async function userById(id: string) {
  const user = await findUserById(handle.db, id);
  if (!user) throw new Error(`no user ${id}`);
  return user;
}

/** A session as Auth.js would have minted it for `userId` now (lib/sessions/sessions.ts claims). */
async function sessionNow(userId: string) {
  return startSession(handle.db, await userById(userId), Date.now());
}
const sessionState = (claims: Awaited<ReturnType<typeof sessionNow>>) => checkSession({ db: handle.db, store, config: config.auth }, claims, Date.now());

/** Fails login for `email` until 100 consecutive failures: 10 per 15-minute window, windows apart. */
async function lockOut(email: string) {
  const { loginFailuresPerAccount, loginLockoutAfter } = config.limits;
  expect(loginLockoutAfter).toBe(100);
  for (let failed = 0; failed < loginLockoutAfter; ) {
    for (let i = 0; i < loginFailuresPerAccount && failed < loginLockoutAfter; i++, failed++) {
      expect(await login(email, OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    }
    advance(LOGIN_WINDOW_MS + SECOND);
  }
  expect(await login(email, PASSWORD)).toEqual({ ok: false, reason: "locked" });
}

/** Subject and heading of each purpose's email; the verify_email wording is the one no other purpose may use. */
const WORDING: Record<CodePurpose, { subject: RegExp; heading: string }> = {
  verify_email: { subject: /verification code/i, heading: "Your verification code" },
  reset_password: { subject: /password reset code/i, heading: "Your password reset code" },
  change_email: { subject: /confirm your new address/i, heading: "Confirm your new email address" },
  sign_in: { subject: /sign-in code/i, heading: "Your sign-in code" },
  enable_totp: { subject: /turn on two-factor authentication/i, heading: "Turn on two-factor authentication" },
  delete_account: { subject: /delete your account/i, heading: "Delete your account" },
};

function expectWording(message: MailMessage, purpose: CodePurpose) {
  const { subject, heading } = WORDING[purpose];
  const code = extractCode({ text: message.text });
  expect(message.subject).toMatch(subject);
  expect(message.subject).toContain(config.appName);
  // The subject shows in notification previews: never the code, nor any 6-digit number.
  expect(message.subject).not.toContain(code);
  expect(message.subject).not.toMatch(/\d{6}/);
  expect(message.html).toMatch(new RegExp(`<h1[^>]*>\\s*${heading}\\s*</h1>`));
  expect(message.text.toLowerCase()).toContain(heading.toLowerCase());
  expect(message.text).toContain(code);
  expect(message.html).toContain(code);
  // And it does not also say it is something else.
  for (const other of CODE_PURPOSES.filter((p) => p !== purpose)) {
    expect(message.subject).not.toMatch(WORDING[other].subject);
    expect(message.html).not.toContain(WORDING[other].heading);
  }
}

// =============================================================================================================

describe("each purpose's email says what it is for", () => {
  it("verify_email: 'Your verification code'", async () => {
    await unverifiedAccount("ada@example.com");
    expectWording(mailer.last("ada@example.com"), "verify_email");
  });

  it("reset_password: 'Your password reset code'", async () => {
    await verifiedAccount("ada@example.com");
    expect(await requestReset("ada@example.com")).toEqual({ ok: true });
    expectWording(mailer.last("ada@example.com"), "reset_password");
  });

  it("change_email: 'Confirm your new email address', sent to the new address only", async () => {
    const id = await verifiedAccount("ada@example.com");
    const before = mailer.sent.length;
    expect(await requestEmailChange(id, "ada.new@example.com")).toEqual({ ok: true, email: "ada.new@example.com" });
    expect(mailer.sent.slice(before).map((m) => m.to)).toEqual(["ada.new@example.com"]);
    expectWording(mailer.last("ada.new@example.com"), "change_email");
  });

  it("sign_in: 'Your sign-in code'", async () => {
    await verifiedAccount("ada@example.com");
    expect(await requestSignInCode("ada@example.com")).toEqual({ ok: true });
    expectWording(mailer.last("ada@example.com"), "sign_in");
  });

  it("the notices carry no code and say what happened", async () => {
    const id = await verifiedAccount("ada@example.com");
    await changePassword(id, PASSWORD, NEW_PASSWORD);
    const notice = mailer.last("ada@example.com");
    expect(notice.subject).toMatch(/password was changed/i);
    expect(notice.text).not.toMatch(/\b\d{6}\b/);
    expect(notice.html).not.toMatch(/\b\d{6}\b/);
  });
});

// =============================================================================================================

describe("a code works only for its own purpose", () => {
  // The purposes an unverified account can be issued; enable_totp and delete_account need a signed-in,
  // verified account and have their own cross-purpose test (tests/service/account-ownership.test.ts).
  const ADDRESS_PURPOSES = ["verify_email", "reset_password", "change_email", "sign_in"] as const;
  type AddressPurpose = (typeof ADDRESS_PURPOSES)[number];
  const OLD = "ada@example.com";
  const NEW = "ada.new@example.com";

  /**
   * One account (not yet verified, so every purpose can issue to it) holding a live code of each
   * purpose at once: a code tried elsewhere meets that purpose's own live code, not an empty record.
   */
  async function everyPurposeIssued() {
    const { id, code: verifyCode } = await unverifiedAccount(OLD);
    advance(COOLDOWN_MS + SECOND);
    expect(await requestReset(OLD)).toEqual({ ok: true });
    const resetCode = mailer.lastCode(OLD);
    advance(COOLDOWN_MS + SECOND);
    expect(await requestSignInCode(OLD)).toEqual({ ok: true });
    const signInCode = mailer.lastCode(OLD);
    const changeCode = await issueEmailChangeCode(id, NEW);
    const codes: Record<AddressPurpose, string> = { verify_email: verifyCode, reset_password: resetCode, change_email: changeCode, sign_in: signInCode };
    return { id, codes };
  }

  /** Uses `otp` as a code for `purpose`, for the account `id` at `OLD`. */
  function tryAs(purpose: AddressPurpose, id: string, otp: string) {
    switch (purpose) {
      case "verify_email":
        return verify(OLD, otp);
      case "reset_password":
        return reset(OLD, otp);
      case "change_email":
        return confirmEmailChange(id, otp);
      case "sign_in":
        return signInWithCode(OLD, otp);
    }
  }

  it.each(ADDRESS_PURPOSES)("a %s code is refused as a code for each other purpose, changes nothing, and still works for its own", async (source) => {
    const { id, codes } = await everyPurposeIssued();
    const code = codes[source];
    const before = await userById(id);

    for (const target of ADDRESS_PURPOSES.filter((p) => p !== source)) {
      // Six random digits can coincide (1 in a million): then the refusal is not observable.
      if (code === codes[target]) continue;
      expect(await tryAs(target, id, code), `${source} code used for ${target}`).toEqual({ ok: false, reason: "wrong_code" });
      // The code tried as the new address's own is not accepted there either.
      if (target === "verify_email" || target === "reset_password" || target === "sign_in") {
        const asNewAddress =
          target === "verify_email"
            ? await verify(NEW, code, { name: "Someone", password: OTHER_PASSWORD })
            : target === "reset_password"
              ? await reset(NEW, code)
              : await signInWithCode(NEW, code);
        expect(asNewAddress, `${source} code used for ${target} of the new address`).toEqual({ ok: false, reason: "wrong_code" });
      }
    }

    // Nothing happened: not verified, same address, same password, no session version change.
    expect(await userById(id)).toEqual(before);
    expect(await findUserByEmail(handle.db, NEW)).toBeUndefined();
    expect(await login(OLD, PASSWORD)).toEqual({ ok: false, reason: "unverified" });

    // The code was not spent by being tried elsewhere: it still does what it was issued for.
    const own = await tryAs(source, id, code);
    expect(own, `${source} code used for ${source}`).toMatchObject({ ok: true });
    const after = await userById(id);
    if (source === "change_email") {
      expect(after.email).toBe(NEW);
    } else {
      expect(after.emailVerifiedAt).not.toBeNull();
      expect(after.isActive).toBe(true);
    }
    if (source === "reset_password") expect(await login(OLD, NEW_PASSWORD)).toMatchObject({ ok: true });
  });
});

// =============================================================================================================

describe("password reset", () => {
  it("answers an unknown email exactly like a known one, and mails nothing", async () => {
    await verifiedAccount("ada@example.com");
    const mailsBefore = mailer.sent.length;

    const known = await requestReset("ada@example.com");
    const unknown = await requestReset("nobody@example.com");

    expect(unknown).toEqual(known);
    expect(known).toEqual({ ok: true });
    expect(mailer.sent.length).toBe(mailsBefore + 1);
    expect(mailer.to("nobody@example.com")).toHaveLength(0);
  });

  it("a deactivated account gets the same answer and no code", async () => {
    const id = await verifiedAccount("ada@example.com");
    await handle.db.update(users).set({ isActive: false }).where(eq(users.id, id));
    const mailsBefore = mailer.sent.length;

    expect(await requestReset("ada@example.com")).toEqual({ ok: true });
    expect(mailer.sent.length).toBe(mailsBefore);
  });

  it("refuses a wrong code and changes nothing", async () => {
    await verifiedAccount("ada@example.com");
    await requestReset("ada@example.com");
    const code = mailer.lastCode("ada@example.com");

    expect(await reset("ada@example.com", wrongCodeFor(code))).toEqual({ ok: false, reason: "wrong_code" });
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: true });
    expect(await login("ada@example.com", NEW_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
  });

  it("answers wrong_code for an address that never asked for a code, the same as for a wrong code", async () => {
    await verifiedAccount("ada@example.com");
    expect(await reset("ada@example.com", "123456")).toEqual({ ok: false, reason: "wrong_code" });
    expect(await reset("nobody@example.com", "123456")).toEqual({ ok: false, reason: "wrong_code" });
  });

  it("accepts a code 9:59 old, refuses it at 10 minutes as expired", async () => {
    await verifiedAccount("ada@example.com");
    await requestReset("ada@example.com");
    const code = mailer.lastCode("ada@example.com");
    advance(TTL_MS);
    expect(await reset("ada@example.com", code)).toEqual({ ok: false, reason: "expired" });
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: true });

    advance(COOLDOWN_MS);
    await requestReset("ada@example.com");
    const fresh = mailer.lastCode("ada@example.com");
    advance(TTL_MS - SECOND);
    expect(await reset("ada@example.com", fresh)).toMatchObject({ ok: true });
  });

  it("accepts a code once: the second use answers used and does not change the password again", async () => {
    await verifiedAccount("ada@example.com");
    await requestReset("ada@example.com");
    const code = mailer.lastCode("ada@example.com");
    expect(await reset("ada@example.com", code)).toMatchObject({ ok: true });
    expect(await reset("ada@example.com", code, OTHER_PASSWORD)).toEqual({ ok: false, reason: "used" });
    expect(await login("ada@example.com", NEW_PASSWORD)).toMatchObject({ ok: true });
  });

  it("voids the code after 5 wrong tries: then even the right code answers too_many_attempts", async () => {
    await verifiedAccount("ada@example.com");
    await requestReset("ada@example.com");
    const code = mailer.lastCode("ada@example.com");
    for (let i = 0; i < 4; i++) expect(await reset("ada@example.com", wrongCodeFor(code))).toEqual({ ok: false, reason: "wrong_code" });
    expect(await reset("ada@example.com", wrongCodeFor(code))).toEqual({ ok: false, reason: "too_many_attempts" });
    expect(await reset("ada@example.com", code)).toEqual({ ok: false, reason: "too_many_attempts" });
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: true });
  });

  it("with the right code: the password changes, every earlier session ends, and a notice goes out", async () => {
    const id = await verifiedAccount("ada@example.com");
    const versionBefore = (await userById(id)).sessionVersion;
    const earlierSession = await sessionNow(id);
    expect(await sessionState(earlierSession)).toBe("ok");
    await requestReset("ada@example.com");
    const code = mailer.lastCode("ada@example.com");

    const result = await reset("ada@example.com", code);

    expect(result).toMatchObject({ ok: true, user: { id, email: "ada@example.com" } });
    expect(await login("ada@example.com", PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await login("ada@example.com", NEW_PASSWORD)).toMatchObject({ ok: true });
    expect((await userById(id)).sessionVersion).toBe(versionBefore + 1);
    expect(await sessionState(earlierSession)).toBe("ended");
    // A session made after the reset is fine.
    expect(await sessionState(await sessionNow(id))).toBe("ok");

    const notice = mailer.last("ada@example.com");
    expect(notice.subject).toMatch(/password was changed/i);
    expect(notice.text).toMatch(/your password was changed/i);
    expect(notice.text).not.toMatch(/\b\d{6}\b/);
  });

  it("clears the login failures: 9 failures before the reset do not count after it", async () => {
    await verifiedAccount("ada@example.com");
    for (let i = 0; i < 9; i++) await login("ada@example.com", OTHER_PASSWORD);
    await requestReset("ada@example.com");
    expect(await reset("ada@example.com", mailer.lastCode("ada@example.com"))).toMatchObject({ ok: true });
    // Without the clearing, the 10th failure would close the window and the right password be refused.
    for (let i = 0; i < 9; i++) expect(await login("ada@example.com", OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await login("ada@example.com", NEW_PASSWORD)).toMatchObject({ ok: true });
  });

  it("lifts the lock after 100 consecutive failures: the account logs in again with the new password", async () => {
    await verifiedAccount("ada@example.com");
    await lockOut("ada@example.com");
    expect(await login("ada@example.com", PASSWORD)).toEqual({ ok: false, reason: "locked" });

    advance(COOLDOWN_MS);
    expect(await requestReset("ada@example.com")).toEqual({ ok: true });
    expect(await reset("ada@example.com", mailer.lastCode("ada@example.com"))).toMatchObject({ ok: true });

    expect(await login("ada@example.com", NEW_PASSWORD)).toMatchObject({ ok: true });
  });

  it("verifies and activates an account that was never verified: the code proved the address", async () => {
    const { id } = await unverifiedAccount("ada@example.com");
    expect(await login("ada@example.com", PASSWORD)).toEqual({ ok: false, reason: "unverified" });
    advance(COOLDOWN_MS + SECOND);

    expect(await requestReset("ada@example.com")).toEqual({ ok: true });
    expectWording(mailer.last("ada@example.com"), "reset_password");
    expect(await reset("ada@example.com", mailer.lastCode("ada@example.com"))).toMatchObject({ ok: true });

    const user = await userById(id);
    expect(user.isActive).toBe(true);
    expect(user.emailVerifiedAt?.getTime()).toBe(Date.now());
    expect(await login("ada@example.com", NEW_PASSWORD)).toMatchObject({ ok: true });
  });

  it("a deactivated account stays deactivated, even with a code it got while still active", async () => {
    const id = await verifiedAccount("ada@example.com");
    await requestReset("ada@example.com");
    const code = mailer.lastCode("ada@example.com");
    await handle.db.update(users).set({ isActive: false }).where(eq(users.id, id));

    await reset("ada@example.com", code);

    expect((await userById(id)).isActive).toBe(false);
    expect(await login("ada@example.com", NEW_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await sessionState(await sessionNow(id))).toBe("ended");
  });

  it("the new password obeys the signup rules: too short is refused by the schema, a common one answers weak_password", async () => {
    await verifiedAccount("ada@example.com");
    await requestReset("ada@example.com");
    const code = mailer.lastCode("ada@example.com");

    expect(resetPasswordSchema(config.passwordMinLength).safeParse({ email: "ada@example.com", otp: code, password: "short one" }).success).toBe(false);
    expect(await reset("ada@example.com", code, COMMON_PASSWORD)).toMatchObject({ ok: false, reason: "weak_password" });
    expect(await reset("ada@example.com", code, `${config.appName} 2030!`)).toMatchObject({ ok: false, reason: "weak_password" });
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: true });
    // A refused password does not spend the code.
    expect(await reset("ada@example.com", code)).toMatchObject({ ok: true });
  });

  it("refuses a weak password alike whether or not the address has an account (the answer reveals nothing about the account)", async () => {
    // Refused before the code is checked, so no answer may depend on what only the account knows (its name):
    // otherwise anyone could probe, without a code and without spending any budget, whether an address
    // has an account and what its owner is called.
    await register("ada@example.com", PASSWORD, "Zorbulon Quaxley");
    expect((await verify("ada@example.com", mailer.lastCode("ada@example.com"))).ok).toBe(true);
    const probe = "quaxley quaxley 99"; // built on the account's name: weak only if the name is consulted
    const known = await reset("ada@example.com", "123456", probe);
    const unknown = await reset("ghost@example.com", "123456", probe);
    expect(known).toEqual(unknown);
  });

  it("takes the same time for an unknown email as for a known one, with a mail transport that takes 30 ms (medians of 15)", async () => {
    await expectAnswerTimeIndependentOfAccount("reset request", requestResetAnswer, /password reset code/i);
  });
});

// =============================================================================================================

describe("change of password (signed in)", () => {
  it("a wrong current password changes nothing: no new password, no session change, no mail", async () => {
    const id = await verifiedAccount("ada@example.com");
    const session = await sessionNow(id);
    const before = await userById(id);
    const mailsBefore = mailer.sent.length;

    expect(await changePassword(id, OTHER_PASSWORD, NEW_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });

    expect(await userById(id)).toEqual(before);
    expect(await sessionState(session)).toBe("ok");
    expect(mailer.sent.length).toBe(mailsBefore);
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: true });
  });

  it("a weak new password is refused and changes nothing", async () => {
    const id = await verifiedAccount("ada@example.com");
    expect(await changePassword(id, PASSWORD, COMMON_PASSWORD)).toMatchObject({ ok: false, reason: "weak_password" });
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: true });
  });

  it("with the right current password: changed, the session version goes up (every session ends), a notice goes out", async () => {
    const id = await verifiedAccount("ada@example.com");
    const versionBefore = (await userById(id)).sessionVersion;
    const otherSession = await sessionNow(id);

    const result = await changePassword(id, PASSWORD, NEW_PASSWORD);

    expect(result).toMatchObject({ ok: true, user: { id, sessionVersion: versionBefore + 1 } });
    expect(await sessionState(otherSession)).toBe("ended");
    expect(await login("ada@example.com", PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await login("ada@example.com", NEW_PASSWORD)).toMatchObject({ ok: true });
    const notice = mailer.last("ada@example.com");
    expect(notice.subject).toMatch(/password was changed/i);
    expect(notice.text).not.toMatch(/\b\d{6}\b/);
  });

  it("wrong current passwords count as failed logins (the same per-account limit)", async () => {
    const id = await verifiedAccount("ada@example.com");
    for (let i = 0; i < config.limits.loginFailuresPerAccount; i++) {
      expect(await changePassword(id, OTHER_PASSWORD, NEW_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    }
    expect(await changePassword(id, PASSWORD, NEW_PASSWORD)).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: false, reason: "rate_limited" });
  });

  it("an account that has a password cannot change it without the current one: invalid_credentials, counted as a failed login", async () => {
    const id = await verifiedAccount("ada@example.com");
    const before = await userById(id);
    for (let i = 0; i < config.limits.loginFailuresPerAccount; i++) {
      expect(await changePassword(id, undefined, NEW_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    }
    expect(await userById(id)).toEqual(before);
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: false, reason: "rate_limited" });
  });

  it("a first password without the current one only for a verified account with none: an unverified account cannot set one", async () => {
    const { id } = await unverifiedAccount("ada@example.com");
    expect(await changePassword(id, undefined, NEW_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    // Not even with a pending signup's password as the "current" one: that only earns a login hint.
    expect(await changePassword(id, PASSWORD, NEW_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await userById(id)).toMatchObject({ passwordHash: NO_PASSWORD, emailVerifiedAt: null, isActive: false });
    expect(await login("ada@example.com", NEW_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
  });

  it("a first password (no current one, after a sign-in by code) obeys the password rules, ends other sessions and is told by mail", async () => {
    const { id } = await unverifiedAccount("ada@example.com");
    advance(COOLDOWN_MS + SECOND);
    await requestSignInCode("ada@example.com");
    expect((await signInWithCode("ada@example.com", mailer.lastCode("ada@example.com"))).ok).toBe(true);
    const otherSession = await sessionNow(id);

    expect(await changePassword(id, undefined, COMMON_PASSWORD)).toMatchObject({ ok: false, reason: "weak_password" });
    expect(await changePassword(id, undefined, NEW_PASSWORD)).toMatchObject({ ok: true });
    expect(await sessionState(otherSession)).toBe("ended");
    expect(mailer.last("ada@example.com").subject).toMatch(/password was changed/i);
    // Once it has one, the next change needs it.
    expect(await changePassword(id, undefined, OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await changePassword(id, NEW_PASSWORD, OTHER_PASSWORD)).toMatchObject({ ok: true });
  });
});

// =============================================================================================================

describe("change of email (signed in)", () => {
  const OLD = "ada@example.com";
  const NEW = "ada.new@example.com";

  it("a wrong password sends nothing and changes nothing", async () => {
    const id = await verifiedAccount(OLD);
    const mailsBefore = mailer.sent.length;
    expect(await requestEmailChange(id, NEW, OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(mailer.sent.length).toBe(mailsBefore);
    expect((await userById(id)).email).toBe(OLD);
  });

  it("mails the code to the new address; nothing changes until it is proven, and the old address still logs in", async () => {
    const id = await verifiedAccount(OLD);
    const before = await userById(id);
    const session = await sessionNow(id);
    const mailsToOld = mailer.to(OLD).length;

    expect(await requestEmailChange(id, NEW)).toEqual({ ok: true, email: NEW });

    expect(mailer.to(NEW)).toHaveLength(1);
    expect(mailer.to(OLD)).toHaveLength(mailsToOld);
    expect(await userById(id)).toEqual(before);
    expect(await findUserByEmail(handle.db, NEW)).toBeUndefined();
    expect(await sessionState(session)).toBe("ok");
    expect(await login(OLD, PASSWORD)).toMatchObject({ ok: true, user: { id } });
    expect(await login(NEW, PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
  });

  it("a wrong code changes nothing", async () => {
    const id = await verifiedAccount(OLD);
    await requestEmailChange(id, NEW);
    const code = mailer.lastCode(NEW);
    expect(await confirmEmailChange(id, wrongCodeFor(code))).toEqual({ ok: false, reason: "wrong_code" });
    expect((await userById(id)).email).toBe(OLD);
  });

  it("an expired code changes nothing", async () => {
    const id = await verifiedAccount(OLD);
    await requestEmailChange(id, NEW);
    const code = mailer.lastCode(NEW);
    advance(TTL_MS);
    expect(await confirmEmailChange(id, code)).toEqual({ ok: false, reason: "expired" });
    expect((await userById(id)).email).toBe(OLD);
  });

  it("after proof: the new address logs in, the old one does not, every session ends, and the old address gets a notice", async () => {
    const id = await verifiedAccount(OLD);
    const versionBefore = (await userById(id)).sessionVersion;
    const session = await sessionNow(id);
    await requestEmailChange(id, NEW);

    const result = await confirmEmailChange(id, mailer.lastCode(NEW));

    expect(result).toMatchObject({ ok: true, previousEmail: OLD, user: { id, email: NEW, sessionVersion: versionBefore + 1 } });
    expect(await login(NEW, PASSWORD)).toMatchObject({ ok: true, user: { id } });
    expect(await login(OLD, PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await sessionState(session)).toBe("ended");
    const notice = mailer.last(OLD);
    expect(notice.subject).toMatch(/login email was changed/i);
    expect(notice.text).not.toContain(NEW);
    expect(notice.text).not.toMatch(/\b\d{6}\b/);
    // The code is spent, and a confirmation arriving after the change (the account now has the new
    // address) still finds the account's record: "used", not a guess counted against the new address.
    expect(await confirmEmailChange(id, mailer.lastCode(NEW))).toEqual({ ok: false, reason: "used" });
  });

  it("a code sent for the old address's change does not work once the address changed again (one record per account: using one code spends the other)", async () => {
    const id = await verifiedAccount(OLD);
    await requestEmailChange(id, NEW);
    const first = mailer.lastCode(NEW);
    advance(COOLDOWN_MS + SECOND);
    await requestEmailChange(id, "ada.third@example.com");
    const second = mailer.lastCode("ada.third@example.com");
    expect(await confirmEmailChange(id, second)).toMatchObject({ ok: true, user: { email: "ada.third@example.com" } });
    expect(await confirmEmailChange(id, first)).toEqual({ ok: false, reason: "used" });
    expect((await userById(id)).email).toBe("ada.third@example.com");
  });

  it("an address of another account: that owner gets the existing-account notice, the answer is the same as for a free address, and no code works", async () => {
    const id = await verifiedAccount(OLD);
    const otherId = await verifiedAccount("grace@example.com");
    const otherBefore = await userById(otherId);
    const mailsToOther = mailer.to("grace@example.com").length;

    const free = await requestEmailChange(id, NEW);
    advance(COOLDOWN_MS + SECOND);
    const taken = await requestEmailChange(id, "grace@example.com");

    expect({ ...taken, email: "" }).toEqual({ ...free, email: "" });
    expect(taken).toEqual({ ok: true, email: "grace@example.com" });
    const notices = mailer.to("grace@example.com").slice(mailsToOther);
    expect(notices).toHaveLength(1);
    expect(notices[0]?.subject).toMatch(/sign-up attempt/i);
    expect(notices[0]?.text).not.toMatch(/\b\d{6}\b/);
    expect(notices[0]?.html).not.toMatch(/\b\d{6}\b/);

    // No code was issued for it: guesses are wrong, and the account keeps its address (the pending
    // change to the free address is a different matter: it goes through only with its own code).
    for (const guess of ["000000", "123456", "999999"]) {
      expect(await confirmEmailChange(id, guess)).toMatchObject({ ok: false, reason: "wrong_code" });
    }
    expect((await userById(id)).email).toBe(OLD);
    expect(await userById(otherId)).toEqual(otherBefore);
  });

  it("an address a verified account took after the code was sent is refused on proof (email_taken): no two accounts share an address", async () => {
    const id = await verifiedAccount(OLD);
    await requestEmailChange(id, NEW);
    const code = mailer.lastCode(NEW);
    // Someone signs up with the address meanwhile, and proves it.
    advance(COOLDOWN_MS + SECOND);
    const { code: theirs } = await unverifiedAccount(NEW, OTHER_PASSWORD);
    expect((await verify(NEW, theirs)).ok).toBe(true);

    expect(await confirmEmailChange(id, code)).toEqual({ ok: false, reason: "email_taken" });
    expect((await userById(id)).email).toBe(OLD);
    expect((await findUserByEmail(handle.db, NEW))!.id).not.toBe(id);
  });

  it("an unverified signup does not hold the address: proving the code moves the account there and the signup goes, before or after the request", async () => {
    for (const [label, signUpFirst] of [
      ["before", true],
      ["after", false],
    ] as const) {
      const old = `old-${label}@example.com`;
      const target = `squatted-${label}@example.com`;
      const id = await verifiedAccount(old);
      if (signUpFirst) await unverifiedAccount(target, OTHER_PASSWORD);
      advance(COOLDOWN_MS + SECOND);
      expect(await requestEmailChange(id, target)).toEqual({ ok: true, email: target });
      const code = mailer.lastCode(target);
      expect(code, "a code, not a notice, went to the address").toMatch(/^\d{6}$/);
      if (!signUpFirst) await unverifiedAccount(target, OTHER_PASSWORD);

      expect(await confirmEmailChange(id, code)).toMatchObject({ ok: true, previousEmail: old });
      expect((await findUserByEmail(handle.db, target))!.id).toBe(id);
    }
  });
});

// =============================================================================================================

describe("what the code store is given", () => {
  /** Every payload the services hand to the store's issueCode, as the store receives it. */
  function capturePayloads(): string[] {
    const payloads: string[] = [];
    const issue = store.issueCode.bind(store);
    store.issueCode = (key, input) => {
      payloads.push(input.payload);
      return issue(key, input);
    };
    return payloads;
  }

  it("a pending email change reaches the store sealed (AES-GCM), never the new address, and still works", async () => {
    const id = await verifiedAccount("ada@example.com");
    const payloads = capturePayloads();
    await requestEmailChange(id, "ada.new@example.com");

    expect(payloads).toHaveLength(1);
    expect(payloads[0]).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(payloads[0]).not.toContain("ada.new");
    expect(await confirmEmailChange(id, mailer.lastCode("ada.new@example.com"))).toMatchObject({ ok: true, user: { email: "ada.new@example.com" } });
  });

  /** Every value the services write to the store with writeValue, as the store receives it. */
  function captureWrites(): Array<{ key: string; value: string }> {
    const writes: Array<{ key: string; value: string }> = [];
    const write = store.writeValue.bind(store);
    store.writeValue = (key, value, ttlMs) => {
      writes.push({ key, value });
      return write(key, value, ttlMs);
    };
    return writes;
  }

  it("a registration's name and password hash reach the store sealed beside the code, never in it, and apply with its token and code", async () => {
    expect((await register("ada@example.com")).ok).toBe(true);
    advance(COOLDOWN_MS + SECOND);
    const payloads = capturePayloads();
    const writes = captureWrites();
    const again = await register("ada@example.com", OTHER_PASSWORD, "Grace Hopper");
    expect(again.ok).toBe(true);

    // The code carries nothing: it proves the inbox only.
    expect(payloads).toEqual([""]);
    // The pending registrations are one sealed value per address, under a key that names no address.
    const sealed = writes.filter((w) => w.key.startsWith("registration:"));
    expect(sealed).toHaveLength(1);
    expect(sealed[0]?.key).not.toContain("ada");
    expect(sealed[0]?.value).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed[0]?.value).not.toMatch(/Grace|Ada|argon2/);
    // Nor does the store hold the token itself (only its digest, inside the seal).
    expect(sealed[0]?.value).not.toContain((again as { registration: string }).registration);

    expect(await verify("ada@example.com", mailer.lastCode("ada@example.com"))).toMatchObject({ ok: true, signIn: false, user: { name: "Grace Hopper" } });
  });
});

describe("sign in with a code", () => {
  it("is off by default: both steps answer disabled and nothing is mailed", async () => {
    wire(defaultConfig);
    expect(defaultConfig.signInByCode).toBe(false);
    await verifiedAccount("ada@example.com");
    const mailsBefore = mailer.sent.length;
    expect(await requestSignInCode("ada@example.com")).toEqual({ ok: false, reason: "disabled" });
    expect(await signInWithCode("ada@example.com", "123456")).toEqual({ ok: false, reason: "disabled" });
    expect(mailer.sent.length).toBe(mailsBefore);
  });

  it("a verified customer gets a code, signs in with it, and gets a notice", async () => {
    const id = await verifiedAccount("ada@example.com");
    expect(await requestSignInCode("ada@example.com")).toEqual({ ok: true });
    const code = mailer.lastCode("ada@example.com");

    expect(await signInWithCode("ada@example.com", code)).toMatchObject({ ok: true, user: { id, role: "customer" } });

    const notice = mailer.last("ada@example.com");
    expect(notice.subject).toMatch(/new sign-in/i);
    expect(notice.text).not.toMatch(/\b\d{6}\b/);
    expect(await signInWithCode("ada@example.com", code)).toEqual({ ok: false, reason: "used" });
  });

  it("answers an unknown address like a known one and mails nothing", async () => {
    await verifiedAccount("ada@example.com");
    expect(await requestSignInCode("nobody@example.com")).toEqual(await requestSignInCode("ada@example.com"));
    expect(mailer.to("nobody@example.com")).toHaveLength(0);
    expect(await signInWithCode("nobody@example.com", "123456")).toEqual({ ok: false, reason: "wrong_code" });
  });

  it("takes the same time for an unknown address as for a known one, with a mail transport that takes 30 ms (medians of 15)", async () => {
    await expectAnswerTimeIndependentOfAccount("sign-in code request", (email) => recovery.requestSignInCode(email, ctx()), /sign-in code/i);
  });

  it.each(["staff", "admin"] as const)("a %s account gets the same answer, no mail, and no code signs it in", async (role) => {
    await privilegedAccount("ops@example.com", role);
    expect(await requestSignInCode("ops@example.com")).toEqual({ ok: true });
    expect(mailer.to("ops@example.com")).toHaveLength(0);
    for (const guess of ["000000", "123456"]) {
      expect(await signInWithCode("ops@example.com", guess)).toMatchObject({ ok: false });
    }
  });

  it("a sign-in code issued while the account was a customer does not sign it in once it became staff", async () => {
    const id = await verifiedAccount("ada@example.com");
    await requestSignInCode("ada@example.com");
    const code = mailer.lastCode("ada@example.com");
    await handle.db.update(users).set({ role: "staff" }).where(eq(users.id, id));
    expect(await signInWithCode("ada@example.com", code)).toMatchObject({ ok: false });
  });

  it("a deactivated account gets no code, and a code from before the deactivation does not sign it in", async () => {
    const id = await verifiedAccount("ada@example.com");
    await requestSignInCode("ada@example.com");
    const code = mailer.lastCode("ada@example.com");
    await handle.db.update(users).set({ isActive: false }).where(eq(users.id, id));
    expect(await signInWithCode("ada@example.com", code)).toMatchObject({ ok: false });

    advance(COOLDOWN_MS + SECOND);
    const mailsBefore = mailer.sent.length;
    expect(await requestSignInCode("ada@example.com")).toEqual({ ok: true });
    expect(mailer.sent.length).toBe(mailsBefore);
  });

  it("an unverified account gets a code worded as a verification code, and is verified and signed in by it", async () => {
    const { id } = await unverifiedAccount("ada@example.com");
    advance(COOLDOWN_MS + SECOND);

    expect(await requestSignInCode("ada@example.com")).toEqual({ ok: true });
    expectWording(mailer.last("ada@example.com"), "verify_email");

    const mail = mailer.last("ada@example.com");
    expect(mail.text).toContain("Someone asked at 2030-01-15 12:01 UTC to sign in to");
    expect(mail.text).toMatch(/you then choose your password/);

    const result = await signInWithCode("ada@example.com", mailer.lastCode("ada@example.com"));
    expect(result).toMatchObject({ ok: true, user: { id } });
    const user = await userById(id);
    expect(user.isActive).toBe(true);
    expect(user.emailVerifiedAt?.getTime()).toBe(Date.now());
    // The code proved the inbox, not the signup: none of its details apply. No password works until one is chosen.
    expect(user).toMatchObject({ name: "", passwordHash: NO_PASSWORD });
    // The pending signup is inert now: its password earns no hint and lets nobody in.
    expect(await login("ada@example.com", PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });

    // Signed in, the person chooses a first password without a current one.
    expect(await changePassword(id, undefined, NEW_PASSWORD)).toMatchObject({ ok: true, user: { id } });
    expect(await login("ada@example.com", NEW_PASSWORD)).toMatchObject({ ok: true });
    expect(await login("ada@example.com", PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
  });

  it("a pending signup's token does not apply over a sign-in by code: its verify code then answers used", async () => {
    await unverifiedAccount("ada@example.com");
    const verifyCode = mailer.lastCode("ada@example.com");
    advance(COOLDOWN_MS + SECOND);
    expect(await requestSignInCode("ada@example.com")).toEqual({ ok: true });
    expect((await signInWithCode("ada@example.com", mailer.lastCode("ada@example.com"))).ok).toBe(true);

    expect(await verify("ada@example.com", verifyCode)).toEqual({ ok: false, reason: "used" });
    // The code itself is still live, but the address is proven already: nothing is activated over the sign-in.
    expect(await verify("ada@example.com", verifyCode, { name: "Ada Lovelace", password: PASSWORD })).toEqual({ ok: false, reason: "used" });
    expect(await findUserByEmail(handle.db, "ada@example.com")).toMatchObject({ name: "", passwordHash: NO_PASSWORD });
  });

  it("10 wrong codes (over two codes) reach the per-account login limit: even the right code, and the right password, answer rate_limited", async () => {
    expect(config.limits.loginFailuresPerAccount).toBe(10);
    await verifiedAccount("ada@example.com");
    let code = "";
    for (let round = 0; round < 2; round++) {
      expect(await requestSignInCode("ada@example.com")).toEqual({ ok: true });
      code = mailer.lastCode("ada@example.com");
      for (let i = 0; i < 4; i++) expect(await signInWithCode("ada@example.com", wrongCodeFor(code))).toEqual({ ok: false, reason: "wrong_code" });
      expect(await signInWithCode("ada@example.com", wrongCodeFor(code))).toEqual({ ok: false, reason: "too_many_attempts" });
      advance(COOLDOWN_MS + SECOND);
    }
    expect(await requestSignInCode("ada@example.com")).toEqual({ ok: true });
    code = mailer.lastCode("ada@example.com");

    expect(await signInWithCode("ada@example.com", code)).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: false, reason: "rate_limited" });
  });

  it("password failures and code failures add up on the same budget", async () => {
    await verifiedAccount("ada@example.com");
    for (let i = 0; i < 5; i++) expect(await login("ada@example.com", OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await requestSignInCode("ada@example.com")).toEqual({ ok: true });
    const code = mailer.lastCode("ada@example.com");
    for (let i = 0; i < 4; i++) expect(await signInWithCode("ada@example.com", wrongCodeFor(code))).toEqual({ ok: false, reason: "wrong_code" });
    expect(await login("ada@example.com", OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });

    // 5 + 4 + 1 = 10: the code (still live, 4 of its 5 tries used) and the password are both refused.
    expect(await signInWithCode("ada@example.com", code)).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: false, reason: "rate_limited" });
    // The window passes: the password works again (the code has expired meanwhile).
    advance(LOGIN_WINDOW_MS + SECOND);
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: true });
  });

  it("a locked account (100 failures) cannot be opened with a sign-in code either", async () => {
    await verifiedAccount("ada@example.com");
    await lockOut("ada@example.com");
    advance(COOLDOWN_MS);
    await requestSignInCode("ada@example.com");
    expect(await signInWithCode("ada@example.com", mailer.lastCode("ada@example.com"))).toEqual({ ok: false, reason: "locked" });
  });

  it("a sign-in by code clears the password failures", async () => {
    await verifiedAccount("ada@example.com");
    for (let i = 0; i < 9; i++) await login("ada@example.com", OTHER_PASSWORD);
    await requestSignInCode("ada@example.com");
    expect(await signInWithCode("ada@example.com", mailer.lastCode("ada@example.com"))).toMatchObject({ ok: true });
    for (let i = 0; i < 9; i++) await login("ada@example.com", OTHER_PASSWORD);
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: true });
  });
});

// =============================================================================================================

describe("budgets shared across purposes (switching purpose does not reset them)", () => {
  it("wrong codes for verify_email, reset_password and change_email spend one per-address budget of 10 an hour", async () => {
    expect(config.limits.verifyFailuresPerHour).toBe(10);
    // Not verified yet, so a verification code is live beside the reset and change codes.
    const { id, code: verifyCode } = await unverifiedAccount("ada@example.com");
    advance(COOLDOWN_MS + SECOND);
    await requestReset("ada@example.com");
    const resetCode = mailer.lastCode("ada@example.com");
    const changeCode = await issueEmailChangeCode(id, "ada.new@example.com");
    const wrong = wrongCodeFor(verifyCode, resetCode, changeCode);

    for (let i = 0; i < 4; i++) expect(await verify("ada@example.com", wrong)).toEqual({ ok: false, reason: "wrong_code" });
    for (let i = 0; i < 3; i++) expect(await reset("ada@example.com", wrong)).toEqual({ ok: false, reason: "wrong_code" });
    for (let i = 0; i < 3; i++) expect(await confirmEmailChange(id, wrong)).toEqual({ ok: false, reason: "wrong_code" });

    // 10 wrong in the hour, each code with tries left: the right codes are refused for every purpose.
    const refusedReset = await reset("ada@example.com", resetCode);
    expect(refusedReset).toMatchObject({ ok: false, reason: "rate_limited" });
    expect((refusedReset as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(3500);
    expect(await confirmEmailChange(id, changeCode)).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(await verify("ada@example.com", verifyCode)).toMatchObject({ ok: false, reason: "rate_limited" });
    const user = await userById(id);
    expect(user).toMatchObject({ email: "ada@example.com", emailVerifiedAt: null });
    // The hour passes: the codes have expired by then, but a new one can be proven.
    advance(HOUR);
    expect(await verify("ada@example.com", verifyCode)).toEqual({ ok: false, reason: "expired" });

    // Another address is not affected.
    expect(await verify("grace@example.com", wrong, { name: "Grace", password: OTHER_PASSWORD })).toEqual({ ok: false, reason: "wrong_code" });
  });

  it("the cooldown is per purpose: a code just sent for one purpose holds back only that purpose's next one", async () => {
    await unverifiedAccount("ada@example.com"); // the verification code just went out
    const mails = () => mailer.to("ada@example.com").length;
    expect(mails()).toBe(1);

    // Within the verification code's minute: another verification code waits, other purposes' codes go out.
    expect(await resend("ada@example.com")).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(mails()).toBe(1);
    expect(await requestReset("ada@example.com")).toEqual({ ok: true });
    expect(mails()).toBe(2);
    expectWording(mailer.last("ada@example.com"), "reset_password");
    expect(await requestSignInCode("ada@example.com")).toEqual({ ok: true });
    expect(mails()).toBe(3);
    // Each purpose's own cooldown holds, and says so truthfully.
    const again = await requestReset("ada@example.com");
    expect(again).toMatchObject({ ok: false, reason: "rate_limited" });
    expect((again as { retryAfterSeconds: number }).retryAfterSeconds).toBeLessThanOrEqual(COOLDOWN_MS / SECOND);
    expect(await requestSignInCode("ada@example.com")).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(mails()).toBe(3);

    advance(COOLDOWN_MS + SECOND);
    expect(await requestReset("ada@example.com")).toEqual({ ok: true });
    expect(mails()).toBe(4);

    // A change of email to an address that just got another purpose's code (a reset, spent without an account) still gets its code.
    const otherId = await verifiedAccount("grace@example.com");
    expect(await requestReset("grace.new@example.com")).toEqual({ ok: true }); // no account: spends the address's budget all the same
    expect(await requestEmailChange(otherId, "grace.new@example.com")).toEqual({ ok: true, email: "grace.new@example.com" });
    expect(mailer.to("grace.new@example.com")).toHaveLength(1);
    expectWording(mailer.last("grace.new@example.com"), "change_email");
    // The change's own cooldown: a second request within the minute is refused truthfully and sends nothing.
    expect(await requestEmailChange(otherId, "grace.new@example.com")).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(mailer.to("grace.new@example.com")).toHaveLength(1);
  });

  it("verified, then a reset asked for within the same minute: the reset code goes out and works", async () => {
    const { code } = await unverifiedAccount("ada@example.com");
    expect((await verify("ada@example.com", code)).ok).toBe(true);
    advance(10 * SECOND); // well within the verification code's cooldown

    expect(await requestReset("ada@example.com")).toEqual({ ok: true });
    expect(mailer.to("ada@example.com")).toHaveLength(2);
    expectWording(mailer.last("ada@example.com"), "reset_password");
    expect(await reset("ada@example.com", mailer.lastCode("ada@example.com"))).toMatchObject({ ok: true });
    expect(await login("ada@example.com", NEW_PASSWORD)).toMatchObject({ ok: true });
  });

  it("a send refused by a limit answers rate_limited truthfully, identically for an address without an account", async () => {
    const id = await verifiedAccount("ada@example.com");
    const graceId = await verifiedAccount("grace@example.com");
    await verifiedAccount("carol@example.com");
    // Each purpose's first request goes out (or, without an account, is spent alike)...
    expect(await requestReset("ada@example.com")).toEqual({ ok: true });
    expect(await requestReset("nobody@example.com")).toEqual({ ok: true });
    expect(await requestSignInCode("ada@example.com")).toEqual({ ok: true });
    expect(await requestSignInCode("nobody@example.com")).toEqual({ ok: true });
    expect(await resend("ada@example.com")).toEqual({ ok: true, email: "ada@example.com", delivery: "sent" }); // verified: nothing sent
    expect(await resend("nobody@example.com")).toEqual({ ok: true, email: "nobody@example.com", delivery: "sent" });
    expect(await requestEmailChange(id, "free@example.com")).toEqual({ ok: true, email: "free@example.com" });
    expect(await requestEmailChange(graceId, "carol@example.com")).toEqual({ ok: true, email: "carol@example.com" });
    expect(mailer.last("carol@example.com").subject).toMatch(/sign-up attempt/i);
    advance(10 * SECOND);

    // ...and the next within the cooldown is refused, with the same answer and the same wait for both addresses.
    const known = [await requestReset("ada@example.com"), await requestSignInCode("ada@example.com"), await resend("ada@example.com")];
    const unknown = [await requestReset("nobody@example.com"), await requestSignInCode("nobody@example.com"), await resend("nobody@example.com")];
    expect(known).toEqual(unknown);
    for (const answer of known) expect(answer).toEqual({ ok: false, reason: "rate_limited", retryAfterSeconds: 50 });
    expect(mailer.to("nobody@example.com")).toHaveLength(0);

    // An email change within the cooldown: to a free address and to one with an account (which got the notice), alike.
    const toTaken = await requestEmailChange(graceId, "carol@example.com");
    const toFree = await requestEmailChange(id, "free@example.com");
    expect(toTaken).toEqual({ ok: false, reason: "rate_limited", retryAfterSeconds: 50 });
    expect(toFree).toEqual(toTaken);
  });

  it("the hourly (5) and daily (10) send caps count every purpose's codes to one address", async () => {
    expect(config.limits.sendsPerHour).toBe(5);
    expect(config.limits.sendsPerDay).toBe(10);
    const id = await verifiedAccount("ada@example.com"); // 1 send (verification)
    const mails = () => mailer.to("ada@example.com").length;
    const asks = [() => requestReset("ada@example.com"), () => requestSignInCode("ada@example.com")] as const;

    // Hour 1: the verification + 4 more of the other purposes = 5; the 6th is not sent.
    for (let i = 0; i < 4; i++) {
      await asks[i % 2]!();
      advance(COOLDOWN_MS + SECOND);
    }
    expect(mails()).toBe(5);
    await asks[0]();
    await asks[1]();
    expect(await resend("ada@example.com")).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(mails()).toBe(5);

    // Hour 2: 5 more, which reaches the daily cap of 10.
    advance(HOUR);
    for (let i = 0; i < 5; i++) {
      await asks[i % 2]!();
      advance(COOLDOWN_MS + SECOND);
    }
    expect(mails()).toBe(10);

    // Hour 3: the hourly window is fresh but the day is spent, for every purpose.
    advance(HOUR);
    await asks[0]();
    advance(COOLDOWN_MS + SECOND);
    await asks[1]();
    const otherId = await verifiedAccount("grace@example.com");
    // Another account moving to this address: the existing-account notice is counted and refused too.
    await requestEmailChange(otherId, "ada@example.com");
    expect(mails()).toBe(10);
    expect((await userById(id)).email).toBe("ada@example.com");
  });
});

// ---- timing helpers (as tests/service/abuse-limits-and-timing.test.ts) ----------------------------------------------------------------

/**
 * Only a known address gets mail: were the answer to wait for the transport, its time would tell whether
 * the address has an account. The mail goes out after the answer; the transport takes 30 ms here so that
 * a regression would show. Known addresses are verified accounts that must really get their mail.
 */
async function expectAnswerTimeIndependentOfAccount(label: string, request: (email: string) => Promise<unknown>, mailSubject: RegExp) {
  const RUNS = 15;
  for (let i = 0; i < RUNS; i++) await verifiedAccount(`known${i}@example.com`);
  mailer.latencyMs = 30;
  await request("warm@example.com");
  const unknown: number[] = [];
  const known: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const a = await timed(() => request(`unknown${i}@example.com`));
    const b = await timed(() => request(`known${i}@example.com`));
    await settle();
    expect(a.result).toEqual(b.result);
    unknown.push(a.ms);
    known.push(b.ms);
  }
  expect(mailer.to(`known${RUNS - 1}@example.com`).some((m) => mailSubject.test(m.subject))).toBe(true);
  expectSimilarTiming(`${label}: unknown vs known`, unknown, known);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  // The samples are never empty, so these indexes hold.
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Medians within 25% of the slower one or 10 ms, whichever is larger: "the same time, within noise". */
function expectSimilarTiming(label: string, a: number[], b: number[]) {
  const [ma, mb] = [median(a), median(b)];
  const allowed = Math.max(12, 0.4 * Math.max(ma, mb));
  expect(Math.abs(ma - mb), `${label}: medians ${ma.toFixed(1)} ms vs ${mb.toFixed(1)} ms (allowed ${allowed.toFixed(1)} ms)`).toBeLessThanOrEqual(allowed);
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { ms: performance.now() - started, result };
}

// =============================================================================================================

describe("wrong codes answer alike whether or not a record exists (decoy records)", () => {
  const TRIES = 7;
  /** The reason of each of 7 wrong codes; wrong for sure when the mailed code is known, else any 6 digits. */
  async function wrongTries(check: (otp: string) => Promise<{ ok: boolean; reason?: string }>, code?: string): Promise<string[]> {
    const reasons: string[] = [];
    for (let i = 0; i < TRIES; i++) reasons.push(String((await check(code ? wrongCodeFor(code) : "000000")).reason));
    return reasons;
  }

  it("password reset: an address with an account, one without and a deactivated one answer 7 wrong codes alike (too_many_attempts after 5); only the account is mailed", async () => {
    await verifiedAccount("known@example.com");
    const deactivatedId = await verifiedAccount("deactivated@example.com");
    await handle.db.update(users).set({ isActive: false }).where(eq(users.id, deactivatedId));
    const seen: Record<string, string[]> = {};
    for (const email of ["known@example.com", "nobody@example.com", "deactivated@example.com"]) {
      const before = mailer.to(email).length;
      expect(await requestReset(email)).toEqual({ ok: true });
      const code = mailer.to(email).length > before ? mailer.lastCode(email) : undefined;
      seen[email] = await wrongTries((otp) => reset(email, otp), code);
    }
    expect(seen["known@example.com"]).toEqual([
      "wrong_code",
      "wrong_code",
      "wrong_code",
      "wrong_code",
      "too_many_attempts",
      "too_many_attempts",
      "too_many_attempts",
    ]);
    expect(seen["nobody@example.com"]).toEqual(seen["known@example.com"]);
    expect(seen["deactivated@example.com"]).toEqual(seen["known@example.com"]);
    expect(mailer.to("nobody@example.com")).toEqual([]);
    expect(mailer.to("deactivated@example.com").filter((m) => /reset/i.test(m.subject))).toEqual([]);
  });

  it("password reset: 10 minutes after the request a guessed code answers alike with and without an account; only the mailed code hears expired", async () => {
    await verifiedAccount("known@example.com");
    expect(await requestReset("known@example.com")).toEqual({ ok: true });
    const code = mailer.lastCode("known@example.com");
    expect(await requestReset("nobody@example.com")).toEqual({ ok: true });
    advance(TTL_MS + SECOND);
    const guess = wrongCodeFor(code);
    expect(await reset("known@example.com", guess)).toEqual({ ok: false, reason: "wrong_code" });
    expect(await reset("nobody@example.com", guess)).toEqual({ ok: false, reason: "wrong_code" });
    expect(await reset("known@example.com", code)).toEqual({ ok: false, reason: "expired" });
  });

  it("sign-in by code: a customer, an address without an account and a staff account answer 7 wrong codes alike; only the customer is mailed", async () => {
    await verifiedAccount("customer@example.com");
    await privilegedAccount("ops@example.com", "staff");
    const seen: Record<string, string[]> = {};
    for (const email of ["customer@example.com", "nobody@example.com", "ops@example.com"]) {
      const before = mailer.to(email).length;
      expect(await requestSignInCode(email)).toEqual({ ok: true });
      const code = mailer.to(email).length > before ? mailer.lastCode(email) : undefined;
      seen[email] = await wrongTries((otp) => signInWithCode(email, otp), code);
    }
    expect(seen["customer@example.com"]).toContain("too_many_attempts");
    expect(seen["nobody@example.com"]).toEqual(seen["customer@example.com"]);
    expect(seen["ops@example.com"]).toEqual(seen["customer@example.com"]);
    expect(mailer.to("nobody@example.com")).toEqual([]);
    expect(mailer.to("ops@example.com")).toEqual([]);
  });

  it("change of email: a change to a free address, to a taken one and to the account's own answer 7 wrong codes alike; the taken address gets the usual notice, no code", async () => {
    await verifiedAccount("taken@example.com");
    const seen: Record<string, string[]> = {};
    for (const [requester, target] of [
      ["first@example.com", "free@example.com"],
      ["second@example.com", "taken@example.com"],
      ["third@example.com", "third@example.com"],
    ] as const) {
      const id = await verifiedAccount(requester);
      const before = mailer.to(target).length;
      expect(await requestEmailChange(id, target)).toEqual({ ok: true, email: target });
      const mailed = mailer.to(target).slice(before);
      const code = target === "free@example.com" ? mailer.lastCode(target) : undefined;
      if (target === "taken@example.com") expect(mailed.map((m) => m.subject)).toEqual([expect.stringMatching(/sign-up attempt/i)]);
      if (target === "third@example.com") expect(mailed).toEqual([]);
      seen[target] = await wrongTries((otp) => confirmEmailChange(id, otp), code);
    }
    expect(seen["free@example.com"]).toContain("too_many_attempts");
    expect(seen["taken@example.com"]).toEqual(seen["free@example.com"]);
    expect(seen["third@example.com"]).toEqual(seen["free@example.com"]);
  });

  it("a decoy request spends the same send limits as a real one: within the cooldown both answer rate_limited with the same wait", async () => {
    await verifiedAccount("known@example.com");
    for (const email of ["known@example.com", "nobody@example.com"]) expect(await requestReset(email)).toEqual({ ok: true });
    const known = await requestReset("known@example.com");
    const unknown = await requestReset("nobody@example.com");
    expect(known).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(unknown).toEqual(known);
  });
});
