import { beforeEach, describe, expect, it, vi } from "vitest";
import { findUserByEmail } from "@/db/users";
import { extractCode } from "@/e2e/support/mailbox";
import { createAccounts } from "@/lib/accounts";
import { parseConfig } from "@/lib/config";
import { loginSchema, registerSchema, resendSchema, verifySchema } from "@/lib/schemas";
import { MemoryCodeStore } from "@/lib/store/memory";
import { advance, CapturingMailer, serviceHarness, startFakeClock, wrongCodeFor } from "./support/service-harness";

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

beforeEach(async () => {
  handle = await harness.freshDatabase();
  mailer = new CapturingMailer();
  startFakeClock();
  accounts = createAccounts({ db: handle.db, store: new MemoryCodeStore(), mailer, config, now: () => Date.now() });
});

/** Each request from its own address unless a test says otherwise: per-IP caps are not what these tests are about. */
let ipCounter = 0;
const ctx = () => ({ ip: `198.51.100.${(ipCounter++ % 250) + 1}` });

// The adapters parse with these schemas before calling the service; so do the tests.
const register = (input: Record<string, unknown>) =>
  accounts.register(registerSchema(config.passwordMinLength).parse(input), ctx());
const verify = (email: string, otp: string) => accounts.verifyEmail(verifySchema.parse({ email, otp }), ctx());
const resend = (email: string) => accounts.resendCode(resendSchema.parse({ email }).email, ctx());
const login = (email: string, password: string) => accounts.authenticate(loginSchema.parse({ email, password }), ctx());

async function userCount(email?: string): Promise<number> {
  const result = email
    ? await handle.client.execute({ sql: "SELECT count(*) AS n FROM users WHERE email = ?", args: [email] })
    : await handle.client.execute("SELECT count(*) AS n FROM users");
  return Number(result.rows[0].n);
}

async function registerAndGetCode(email: string, name = "Ada Lovelace", password = PASSWORD): Promise<string> {
  const result = await register({ name, email, password });
  expect(result).toEqual({ ok: true, email, delivery: "sent" });
  return mailer.lastCode(email);
}

describe("register", () => {
  it("creates one inactive customer, not yet verified, under the normalised email", async () => {
    const result = await register({ name: "  Ada Lovelace ", email: "  Ada.Lovelace@Example.COM ", password: PASSWORD });

    expect(result).toEqual({ ok: true, email: "ada.lovelace@example.com", delivery: "sent" });
    const user = await findUserByEmail(handle.db, "ada.lovelace@example.com");
    expect(user).toMatchObject({
      email: "ada.lovelace@example.com",
      name: "Ada Lovelace",
      role: "customer",
      isActive: false,
      emailVerifiedAt: null,
    });
    expect(user!.passwordHash).toMatch(/^\$argon2id\$/);
    expect(user!.passwordHash).not.toContain(PASSWORD);
    expect(await userCount()).toBe(1);
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
    const [message] = mailer.sent;
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

    expect(result).toEqual({ ok: true, email: "ada@example.com", delivery: "failed" });
    expect(mailer.sent).toHaveLength(0);
    expect(await findUserByEmail(handle.db, "ada@example.com")).toMatchObject({ isActive: false, emailVerifiedAt: null });

    mailer.failing = false;
    advance(COOLDOWN_MS);
    expect(await resend("ada@example.com")).toEqual({ ok: true, email: "ada@example.com", delivery: "sent" });
    const verified = await verify("ada@example.com", mailer.lastCode("ada@example.com"));
    expect(verified.ok).toBe(true);
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: true });
  });

  it("re-registering an unverified email mails a fresh code; the new name and password apply only once it is proven", async () => {
    await registerAndGetCode("ada@example.com", "Ada Old", PASSWORD);
    advance(COOLDOWN_MS + 1000);

    const again = await register({ name: "Ada New", email: "ada@example.com", password: OTHER_PASSWORD });
    expect(again).toEqual({ ok: true, email: "ada@example.com", delivery: "sent" });
    expect(mailer.to("ada@example.com")).toHaveLength(2);
    const freshCode = mailer.lastCode("ada@example.com");
    expect(await userCount("ada@example.com")).toBe(1);

    // Not proven yet: the account still has the old details.
    expect((await findUserByEmail(handle.db, "ada@example.com"))!.name).toBe("Ada Old");
    expect(await login("ada@example.com", OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await login("ada@example.com", PASSWORD)).toEqual({ ok: false, reason: "unverified" });

    const verified = await verify("ada@example.com", freshCode);
    expect(verified).toMatchObject({ ok: true, user: { name: "Ada New", isActive: true } });
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

    expect(again).toEqual(fresh);
    expect(await findUserByEmail(handle.db, "ada@example.com")).toEqual(before);
    expect(await login("ada@example.com", PASSWORD)).toMatchObject({ ok: true });
    expect(await login("ada@example.com", OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    // The owner is told of the attempt; no code that could activate or change anything is sent.
    const after = mailer.sent.slice(mailsBefore);
    expect(after).toHaveLength(1);
    expect(after[0].to).toBe("ada@example.com");
    expect(after[0].subject).not.toMatch(/verification code/i);
    expect(after[0].text).not.toMatch(/\b\d{6}\b/);
    expect(after[0].html).not.toMatch(/\b\d{6}\b/);
  });

  it("creates exactly one user row and mails one code when 20 signups for one email race", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => register({ name: "Ada", email: "race@example.com", password: PASSWORD })),
    );

    expect(results.every((r) => r.ok && r.email === "race@example.com")).toBe(true);
    expect(await userCount("race@example.com")).toBe(1);
    expect(mailer.to("race@example.com")).toHaveLength(1);
    const verified = await verify("race@example.com", mailer.lastCode("race@example.com"));
    expect(verified.ok).toBe(true);
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
  });

  it("answers wrong_code for a wrong code and keeps the account inactive", async () => {
    const code = await registerAndGetCode("ada@example.com");
    expect(await verify("ada@example.com", wrongCodeFor(code))).toEqual({ ok: false, reason: "wrong_code" });
    expect(await findUserByEmail(handle.db, "ada@example.com")).toMatchObject({ isActive: false, emailVerifiedAt: null });
  });

  it("answers wrong_code for an email with no code, the same as for a wrong code", async () => {
    expect(await verify("nobody@example.com", "123456")).toEqual({ ok: false, reason: "wrong_code" });
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

  it("answers unverified for the right password on an unverified account, invalid_credentials for a wrong one", async () => {
    await registerAndGetCode("ada@example.com");
    expect(await login("ada@example.com", PASSWORD)).toEqual({ ok: false, reason: "unverified" });
    expect(await login("ada@example.com", OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
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
