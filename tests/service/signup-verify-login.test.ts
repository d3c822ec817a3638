import { beforeEach, describe, expect, it, vi } from "vitest";
import { findUserByEmail } from "@/db/users";
import { extractCode } from "@/testing/mailbox";
import type { createAccounts } from "@/lib/accounts/accounts";
import { wireServices } from "@/lib/platform/runtime";
import { parseConfig } from "@/lib/platform/config";
import { NO_PASSWORD } from "@/db/schema";
import { loginSchema, registerSchema, resendSchema, verifyInputSchema } from "@/lib/schemas";
import { MemoryCodeStore } from "@/lib/store/memory";
import { advance, CapturingMailer, serviceHarness, startFakeClock } from "@/testing/service-harness";
import { clientContexts, wrongCodeFor } from "@/testing/people";
import { SignupTokens, withoutToken } from "@/testing/signups";

/**
 * The service rules against a real libSQL file database, the in-process code store, a capturing mailer
 * and a fake clock. Inputs go through the same schemas the adapters use.
 *
 * The clock is faked with vi.setSystemTime (Date only; real timers keep running for libSQL and argon2):
 * the store reads Date.now() for its rate-limit counters, so an injected `now` alone would leave the
 * cooldown on the real clock.
 */

const config = parseConfig({ NODE_ENV: "test", AUTH_SECRET: "test-secret-for-accounts-tests" });
const MINUTE = 60_000;
const COOLDOWN_MS = config.codes.resendCooldownSeconds * 1000;
const TTL_MS = config.codes.ttlSeconds * 1000;

const PASSWORD = "correct horse battery staple";
const OTHER_PASSWORD = "a different long passphrase";

const harness = serviceHarness("accounts-test");

let handle: Awaited<ReturnType<typeof harness.freshDatabase>>;
let mailer: CapturingMailer;
let accounts: ReturnType<typeof createAccounts>;
let tokens: SignupTokens;

beforeEach(async () => {
  handle = await harness.freshDatabase();
  mailer = new CapturingMailer();
  tokens = new SignupTokens();
  startFakeClock();
  accounts = wireServices({ db: handle.db, store: new MemoryCodeStore(), mailer, config, now: () => Date.now() }).accounts;
});

/** Each request from its own address unless a test says otherwise: per-IP caps are not what these tests are about. */
const ctx = clientContexts("198.51.100.");

// The adapters parse with these schemas before calling the service; so do the tests.
// Each signup's client keeps its registration token and shows it when it verifies (testing/signups.ts).
const register = async (input: Record<string, unknown>) =>
  tokens.remember(await accounts.register(registerSchema(config.passwordMinLength).parse(input), ctx()));
/** Verifies as the newest signup's own client would: with its registration token, unless `extra` says otherwise. */
const verify = (email: string, otp: string, extra: { registration?: string; name?: string; password?: string } = { registration: tokens.of(email) }) =>
  accounts.verifyEmail(verifyInputSchema(config.passwordMinLength).parse({ email, otp, ...extra }), ctx());
const resend = (email: string) => accounts.resendCode(resendSchema.parse({ email }).email, ctx());
const login = (email: string, password: string) => accounts.authenticate(loginSchema.parse({ email, password }), ctx());

async function userCount(email?: string): Promise<number> {
  const result = email
    ? await handle.client.execute({ sql: "SELECT count(*) AS n FROM users WHERE email = ?", args: [email] })
    : await handle.client.execute("SELECT count(*) AS n FROM users");
  return Number(result.rows[0]!.n);
}

async function registerAndGetCode(email: string, name = "Ada Lovelace", password = PASSWORD): Promise<string> {
  const result = await register({ name, email, password });
  expect(withoutToken(result)).toEqual({ ok: true, email, delivery: "sent" });
  return mailer.lastCode(email);
}

describe("register", () => {
  it("creates one inactive customer, not yet verified, under the normalised email, holding no name and no password until proven", async () => {
    const result = await register({ name: "  Ada Lovelace ", email: "  Ada.Lovelace@Example.COM ", password: PASSWORD });

    expect(withoutToken(result)).toEqual({ ok: true, email: "ada.lovelace@example.com", delivery: "sent" });
    const user = await findUserByEmail(handle.db, "ada.lovelace@example.com");
    expect(user).toMatchObject({
      email: "ada.lovelace@example.com",
      name: "",
      passwordHash: NO_PASSWORD,
      role: "customer",
      isActive: false,
      emailVerifiedAt: null,
    });
    expect(await userCount()).toBe(1);

    // Proven with this signup's own token: the details it chose apply, hashed.
    const verified = await verify("ada.lovelace@example.com", mailer.lastCode("ada.lovelace@example.com"));
    expect(verified).toMatchObject({ ok: true, signIn: false, user: { name: "Ada Lovelace", isActive: true } });
    const proven = await findUserByEmail(handle.db, "ada.lovelace@example.com");
    expect(proven!.passwordHash).toMatch(/^\$argon2id\$/);
    expect(proven!.passwordHash).not.toContain(PASSWORD);
  });

  it.each(["1q2w3e4r5t6y7u8i", "qwerty123456789", "Ada Lovelace 1815 Ada"])(
    "refuses %j (a common or name-based password) with weak_password: no account, no mail",
    async (password) => {
      const result = await register({ name: "Ada Lovelace", email: "ada@example.com", password });
      expect(result).toMatchObject({ ok: false, reason: "weak_password", message: expect.any(String) });
      expect(await userCount()).toBe(0);
      expect(mailer.sent).toHaveLength(0);
    },
  );

  it("ignores role, isActive and emailVerifiedAt smuggled into the signup input", async () => {
    const raw = {
      name: "Mallory",
      email: "mallory@example.com",
      password: PASSWORD,
      role: "admin",
      isActive: true,
      emailVerifiedAt: new Date().toISOString(),
      id: "chosen-id",
    };
    const parsed = registerSchema(config.passwordMinLength).parse(raw);
    expect(Object.keys(parsed).sort()).toEqual(["email", "name", "password"]);

    await accounts.register(parsed, ctx());
    const user = await findUserByEmail(handle.db, "mallory@example.com");
    expect(user).toMatchObject({ role: "customer", isActive: false, emailVerifiedAt: null });
    expect(user!.id).not.toBe("chosen-id");
  });

  it("mails the code in the text and html but never in the subject", async () => {
    await register({ name: "Ada", email: "ada@example.com", password: PASSWORD });

    expect(mailer.sent).toHaveLength(1);
    const message = mailer.sent[0]!;
    const code = extractCode({ text: message.text });
    expect(message.to).toBe("ada@example.com");
    expect(message.subject).not.toContain(code);
    expect(message.subject).not.toMatch(/\d{6}/);
    expect(message.text).toContain(code);
    expect(message.html).toContain(code);
  });

  it("leaves the inactive account when the mail fails, answers delivery failed, and a later resend completes the signup", async () => {
    mailer.failing = true;
    const result = await register({ name: "Ada", email: "ada@example.com", password: PASSWORD });

    expect(withoutToken(result)).toEqual({ ok: true, email: "ada@example.com", delivery: "failed" });
    expect(mailer.sent).toHaveLength(0);
    expect(await findUserByEmail(handle.db, "ada@example.com")).toMatchObject({ isActive: false, emailVerifiedAt: null });

    mailer.failing = false;
    advance(COOLDOWN_MS);
    expect(await resend("ada@example.com")).toEqual({ ok: true, email: "ada@example.com", delivery: "sent" });
    const verified = await verify("ada@example.com", mailer.lastCode("ada@example.com"));
    expect(verified.ok).toBe(true);
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: true });
  });

  it("re-registering an unverified email mails a fresh code and adds a pending registration; each one's details apply only with its own token and the code", async () => {
    const first = await register({ name: "Ada Old", email: "ada@example.com", password: PASSWORD });
    const firstCode = mailer.lastCode("ada@example.com");
    advance(COOLDOWN_MS + 1000);

    const again = await register({ name: "Ada New", email: "ada@example.com", password: OTHER_PASSWORD });
    expect(withoutToken(again)).toEqual({ ok: true, email: "ada@example.com", delivery: "sent" });
    const [firstToken, againToken] = [first, again].map((r) => (r.ok ? r.registration : ""));
    expect(againToken).not.toBe(firstToken);
    expect(mailer.to("ada@example.com")).toHaveLength(2);
    const freshCode = mailer.lastCode("ada@example.com");
    expect(await userCount("ada@example.com")).toBe(1);

    // Not proven yet: the account holds neither signup's details; both wait, and either password only earns the hint.
    expect(await findUserByEmail(handle.db, "ada@example.com")).toMatchObject({ name: "", passwordHash: NO_PASSWORD, emailVerifiedAt: null });
    expect(await login("ada@example.com", OTHER_PASSWORD)).toEqual({ ok: false, reason: "unverified" });
    expect(await login("ada@example.com", PASSWORD)).toEqual({ ok: false, reason: "unverified" });
    expect(await login("ada@example.com", "neither signup chose this one")).toEqual({ ok: false, reason: "invalid_credentials" });

    // A code alone applies nobody's details; a token that is not a pending one of this address neither.
    expect(await verify("ada@example.com", freshCode, {})).toEqual({ ok: false, reason: "choose_password" });
    expect(await verify("ada@example.com", freshCode, { registration: "A".repeat(43) })).toEqual({ ok: false, reason: "choose_password" });

    // The first signup's token with a valid code (any code of the address proves the inbox) applies the first's details only.
    const verified = await verify("ada@example.com", firstCode === freshCode ? freshCode : firstCode, { registration: firstToken });
    expect(verified).toMatchObject({ ok: true, signIn: false, user: { name: "Ada Old", isActive: true } });
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: true });
    expect(await login("ada@example.com", OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });

    // Proven: the other pending registration is inert, with the other code or without one, and its password earns no hint.
    if (freshCode !== firstCode) {
      expect(await verify("ada@example.com", freshCode, { registration: againToken })).toEqual({ ok: false, reason: "used" });
    }
    expect(await login("ada@example.com", OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await findUserByEmail(handle.db, "ada@example.com")).toMatchObject({ name: "Ada Old", isActive: true });
  });

  it("the newer registration's token applies the newer details, and the older password then no longer works", async () => {
    await registerAndGetCode("ada@example.com", "Ada Old", PASSWORD);
    advance(COOLDOWN_MS + 1000);
    await register({ name: "Ada New", email: "ada@example.com", password: OTHER_PASSWORD });

    const verified = await verify("ada@example.com", mailer.lastCode("ada@example.com"));
    expect(verified).toMatchObject({ ok: true, signIn: false, user: { name: "Ada New", isActive: true } });
    expect(await login("ada@example.com", OTHER_PASSWORD)).toMatchObject({ ok: true });
    expect(await login("ada@example.com", PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
  });

  it("re-registering a verified email changes nothing, mails no code and answers like a fresh signup", async () => {
    const fresh = await register({ name: "Ada", email: "ada@example.com", password: PASSWORD });
    await verify("ada@example.com", mailer.lastCode("ada@example.com"));
    const before = await findUserByEmail(handle.db, "ada@example.com");
    const mailsBefore = mailer.sent.length;
    advance(COOLDOWN_MS + 1000);

    const again = await register({ name: "Mallory", email: "ada@example.com", password: OTHER_PASSWORD });

    expect(withoutToken(again)).toEqual(withoutToken(fresh));
    expect(await findUserByEmail(handle.db, "ada@example.com")).toEqual(before);
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: true });
    expect(await login("ada@example.com", OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    // The owner is told of the attempt; no code that could activate or change anything is sent.
    const after = mailer.sent.slice(mailsBefore);
    expect(after).toHaveLength(1);
    expect(after[0]?.to).toBe("ada@example.com");
    expect(after[0]?.subject).not.toMatch(/verification code/i);
    expect(after[0]?.text).not.toMatch(/\b\d{6}\b/);
    expect(after[0]?.html).not.toMatch(/\b\d{6}\b/);
  });

  it("creates exactly one user row and mails one code when 20 signups for one email race", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => register({ name: "Ada", email: "race@example.com", password: PASSWORD })));

    expect(results.every((r) => r.ok && r.email === "race@example.com")).toBe(true);
    expect(await userCount("race@example.com")).toBe(1);
    expect(mailer.to("race@example.com")).toHaveLength(1);
    // Racing writes of the pending list may drop some registrations (those verifiers choose a password);
    // at least one stays, and its token completes the signup with the one code.
    const pending: string[] = [];
    for (const r of results) if (r.ok && (await accounts.isPendingSignup("race@example.com", r.registration))) pending.push(r.registration);
    expect(pending.length).toBeGreaterThanOrEqual(1);
    const verified = await verify("race@example.com", mailer.lastCode("race@example.com"), { registration: pending[0] });
    expect(verified).toMatchObject({ ok: true, signIn: false, user: { name: "Ada" } });
  });
});

describe("verifyEmail", () => {
  it("activates the account with the right code and records when", async () => {
    const code = await registerAndGetCode("ada@example.com");
    advance(3 * MINUTE);

    const result = await verify("ada@example.com", code);

    expect(result).toMatchObject({ ok: true, user: { email: "ada@example.com", isActive: true } });
    const user = await findUserByEmail(handle.db, "ada@example.com");
    expect(user!.isActive).toBe(true);
    expect(user!.emailVerifiedAt?.getTime()).toBe(Date.now());
  });

  it("accepts the code as typed with a space or a dash", async () => {
    const code = await registerAndGetCode("ada@example.com");
    expect(await verify(" ADA@example.com ", `${code.slice(0, 3)}-${code.slice(3)}`)).toMatchObject({ ok: true });
  });

  it("accepts a code only once: the second use answers used", async () => {
    const code = await registerAndGetCode("ada@example.com");
    expect((await verify("ada@example.com", code)).ok).toBe(true);
    expect(await verify("ada@example.com", code)).toEqual({ ok: false, reason: "used" });
    // Nor does the spent code apply details someone else chooses.
    expect(await verify("ada@example.com", code, { name: "Someone Else", password: OTHER_PASSWORD })).toEqual({ ok: false, reason: "used" });
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: true });
  });

  it("answers wrong_code for a wrong code and keeps the account inactive", async () => {
    const code = await registerAndGetCode("ada@example.com");
    expect(await verify("ada@example.com", wrongCodeFor(code))).toEqual({ ok: false, reason: "wrong_code" });
    expect(await findUserByEmail(handle.db, "ada@example.com")).toMatchObject({ isActive: false, emailVerifiedAt: null });
  });

  it("answers wrong_code for an email with no code, the same as for a wrong code", async () => {
    // Without a signup's token the verifier chooses a name and password; the code decides the answer.
    const chosen = { name: "Someone", password: OTHER_PASSWORD };
    expect(await verify("nobody@example.com", "123456", chosen)).toEqual({ ok: false, reason: "wrong_code" });
    const code = await registerAndGetCode("ada@example.com");
    expect(await verify("ada@example.com", wrongCodeFor(code), chosen)).toEqual({ ok: false, reason: "wrong_code" });
  });

  it("without its registration token, a code needs the name and password the verifier chooses: choose_password before the code is checked", async () => {
    const code = await registerAndGetCode("ada@example.com");

    // Neither the right nor a wrong code is checked: no attempt is spent, the code still works.
    expect(await verify("ada@example.com", code, {})).toEqual({ ok: false, reason: "choose_password" });
    for (let i = 0; i < 6; i++) {
      expect(await verify("ada@example.com", wrongCodeFor(code), { name: "Only A Name" })).toEqual({ ok: false, reason: "choose_password" });
    }
    expect(await findUserByEmail(handle.db, "ada@example.com")).toMatchObject({ isActive: false, emailVerifiedAt: null });
    expect(await verify("ada@example.com", code, { password: OTHER_PASSWORD })).toEqual({ ok: false, reason: "choose_password" });
    // A weak chosen password is refused before the code too.
    expect(await verify("ada@example.com", code, { name: "Eve", password: "qwerty123456789" })).toMatchObject({ ok: false, reason: "weak_password" });

    expect(await verify("ada@example.com", code)).toMatchObject({ ok: true, signIn: false, user: { name: "Ada Lovelace" } });
  });

  it("with the code but no token, the verifier's own name and password apply (signIn), and no pending signup's password works", async () => {
    const code = await registerAndGetCode("ada@example.com", "Ada Lovelace", PASSWORD);

    const verified = await verify("ada@example.com", code, { name: "Inbox Reader", password: OTHER_PASSWORD });
    expect(verified).toMatchObject({ ok: true, signIn: true, user: { name: "Inbox Reader", isActive: true } });
    expect(await login("ada@example.com", OTHER_PASSWORD)).toMatchObject({ ok: true });
    expect(await login("ada@example.com", PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    // The pending signup is inert from now on: its token with the (spent) code changes nothing.
    expect(await verify("ada@example.com", code)).toEqual({ ok: false, reason: "used" });
    expect(await findUserByEmail(handle.db, "ada@example.com")).toMatchObject({ name: "Inbox Reader" });
  });

  it("still accepts the right code after 4 wrong tries", async () => {
    const code = await registerAndGetCode("ada@example.com");
    for (let i = 0; i < 4; i++) {
      expect(await verify("ada@example.com", wrongCodeFor(code))).toEqual({ ok: false, reason: "wrong_code" });
    }
    expect((await verify("ada@example.com", code)).ok).toBe(true);
  });

  it("voids the code after 5 wrong tries, so even the right code then answers too_many_attempts", async () => {
    const code = await registerAndGetCode("ada@example.com");
    const wrong = wrongCodeFor(code);
    for (let i = 0; i < 4; i++) {
      expect(await verify("ada@example.com", wrong)).toEqual({ ok: false, reason: "wrong_code" });
    }
    expect(await verify("ada@example.com", wrong)).toEqual({ ok: false, reason: "too_many_attempts" });
    expect(await verify("ada@example.com", code)).toEqual({ ok: false, reason: "too_many_attempts" });
    expect(await findUserByEmail(handle.db, "ada@example.com")).toMatchObject({ isActive: false, emailVerifiedAt: null });
  });

  it("still accepts a code 9 minutes 59 seconds old", async () => {
    const code = await registerAndGetCode("ada@example.com");
    advance(TTL_MS - 1000);
    expect((await verify("ada@example.com", code)).ok).toBe(true);
  });

  it("answers expired for a code 10 minutes old", async () => {
    expect(TTL_MS).toBe(10 * MINUTE);
    const code = await registerAndGetCode("ada@example.com");
    advance(TTL_MS);
    expect(await verify("ada@example.com", code)).toEqual({ ok: false, reason: "expired" });
    expect(await findUserByEmail(handle.db, "ada@example.com")).toMatchObject({ isActive: false });
  });

  it("lets exactly one of 20 racing verifications with the right code succeed; the rest answer used", async () => {
    const code = await registerAndGetCode("ada@example.com");

    const results = await Promise.all(Array.from({ length: 20 }, () => verify("ada@example.com", code)));

    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual(Array.from({ length: 19 }, () => ({ ok: false, reason: "used" })));
  });
});

describe("resendCode", () => {
  it("after the 60 s cooldown mails a new code; the code before it stays valid, older ones are replaced", async () => {
    expect(COOLDOWN_MS).toBe(60_000);
    const first = await registerAndGetCode("ada@example.com");
    advance(COOLDOWN_MS);
    expect(await resend("ada@example.com")).toEqual({ ok: true, email: "ada@example.com", delivery: "sent" });
    const second = mailer.lastCode("ada@example.com");
    advance(COOLDOWN_MS);
    expect(await resend("ada@example.com")).toEqual({ ok: true, email: "ada@example.com", delivery: "sent" });
    const third = mailer.lastCode("ada@example.com");
    expect(mailer.to("ada@example.com")).toHaveLength(3);

    // Random codes can coincide (1 in a million); the replacement is only observable when they differ.
    if (first !== second && first !== third) {
      expect(await verify("ada@example.com", first)).toEqual({ ok: false, reason: "wrong_code" });
    }
    expect((await verify("ada@example.com", third)).ok).toBe(true);
  });

  it("keeps the previous code valid beside a new one, so a slow email still works", async () => {
    const first = await registerAndGetCode("ada@example.com");
    advance(COOLDOWN_MS);
    await resend("ada@example.com");
    expect(mailer.to("ada@example.com")).toHaveLength(2);
    expect((await verify("ada@example.com", first)).ok).toBe(true);
    // One proof per address: the newer code is spent with it.
    expect(await verify("ada@example.com", mailer.lastCode("ada@example.com"))).toEqual({ ok: false, reason: "used" });
  });

  it("within the cooldown answers rate_limited with the seconds left and sends nothing", async () => {
    const code = await registerAndGetCode("ada@example.com");
    advance(20_000);

    expect(await resend("ada@example.com")).toEqual({ ok: false, reason: "rate_limited", retryAfterSeconds: 40 });
    expect(mailer.sent).toHaveLength(1);
    // The code already mailed still works.
    expect((await verify("ada@example.com", code)).ok).toBe(true);
  });

  it("answers sent but mails nothing for an unknown email", async () => {
    expect(await resend("nobody@example.com")).toEqual({ ok: true, email: "nobody@example.com", delivery: "sent" });
    expect(mailer.sent).toHaveLength(0);
  });

  it("answers sent but mails nothing for an already verified email", async () => {
    await verify("ada@example.com", await registerAndGetCode("ada@example.com"));
    advance(COOLDOWN_MS + 1000);

    expect(await resend("ada@example.com")).toEqual({ ok: true, email: "ada@example.com", delivery: "sent" });
    expect(mailer.sent).toHaveLength(1);
  });
});

describe("authenticate", () => {
  it("answers invalid_credentials alike for an unknown email and a wrong password", async () => {
    await verify("ada@example.com", await registerAndGetCode("ada@example.com"));

    const unknown = await login("nobody@example.com", PASSWORD);
    const wrong = await login("ada@example.com", OTHER_PASSWORD);

    expect(unknown).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(wrong).toEqual(unknown);
  });

  it("answers unverified for a pending signup's password on an unverified account, invalid_credentials for a wrong one", async () => {
    await registerAndGetCode("ada@example.com");
    expect(await login("ada@example.com", PASSWORD)).toEqual({ ok: false, reason: "unverified" });
    expect(await login("ada@example.com", OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    // The hint never lets anyone in, and the account stays as it was.
    expect(await findUserByEmail(handle.db, "ada@example.com")).toMatchObject({ isActive: false, emailVerifiedAt: null, passwordHash: NO_PASSWORD });
  });

  it("an account without a password (verified by a sign-in code) lets no password in, not even an empty-looking one", async () => {
    await registerAndGetCode("ada@example.com");
    await handle.client.execute({
      sql: "UPDATE users SET is_active = 1, email_verified_at = ? WHERE email = ?",
      args: [Date.now(), "ada@example.com"],
    });
    expect(await login("ada@example.com", PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await login("ada@example.com", " ")).toEqual({ ok: false, reason: "invalid_credentials" });
  });

  it("lets a verified account in with its password, whatever the case of the email typed", async () => {
    await verify("ada@example.com", await registerAndGetCode("ada@example.com"));
    const result = await login("  ADA@Example.com", PASSWORD);
    expect(result).toMatchObject({ ok: true, user: { email: "ada@example.com", role: "customer", isActive: true } });
  });
});

describe("logging", () => {
  it("never writes the code or the password to the log", async () => {
    const info = vi.spyOn(console, "info").mockImplementation(() => {});
    const code = await registerAndGetCode("ada@example.com");
    await verify("ada@example.com", wrongCodeFor(code));
    await verify("ada@example.com", code);
    await login("ada@example.com", PASSWORD);

    const logged = info.mock.calls.map((args) => args.join(" ")).join("\n");
    expect(logged).toContain("verified");
    expect(logged).not.toContain(code);
    expect(logged).not.toContain(PASSWORD);
    expect(logged).not.toContain("ada@example.com");
  });
});
