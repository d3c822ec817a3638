import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { findUserByEmail } from "@/db/users";
import { extractCode } from "@/testing/mailbox";
import { startRedisCluster } from "@/testing/services/redis-cluster";
import { startRedis, type RedisServer } from "@/testing/services/redis-server";
import { createAccountSettings } from "@/lib/accounts/account-settings";
import type { createAccounts } from "@/lib/accounts/accounts";
import { wireServices, type Services } from "@/lib/platform/runtime";
import { createDeliveryQueue } from "@/lib/mail/delivery-queue";
import { parseConfig } from "@/lib/platform/config";
import { createRecovery } from "@/lib/accounts/recovery";
import { emailId, ipKey, sendLimits } from "@/lib/codes/limits";
import { loginSchema, registerSchema, resendSchema, verifyInputSchema } from "@/lib/schemas";
import { StoreUnavailableError, type CodeStore } from "@/lib/store/code-store";
import { MemoryCodeStore } from "@/lib/store/memory";
import { RedisCodeStore } from "@/lib/store/redis";
import { advance, CapturingMailer, serviceHarness, startFakeClock } from "@/testing/service-harness";
import { wrongCodeFor } from "@/testing/people";
import { SignupTokens, withoutToken } from "@/testing/signups";

/**
 * The abuse cases, at the service level: createAccounts over a real libSQL file
 * database, a capturing mailer, and either the in-process store with a fake clock (limits that take
 * hours or days to show) or the real Redis store (races and outages, on the real clock).
 *
 * The clock is faked with vi.setSystemTime on Date only (libSQL, argon2 and performance.now() keep
 * real time): the in-process store reads Date.now() for its limit windows.
 */

const config = parseConfig({ NODE_ENV: "test", AUTH_SECRET: "abuse-tests-secret-not-for-production" });
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const COOLDOWN_MS = config.codes.resendCooldownSeconds * SECOND;

const PASSWORD = "correct horse battery staple";
const OTHER_PASSWORD = "a different long passphrase";
const HOSTILE_NAME = "Call +1 555 0100 http://evil.example";

const harness = serviceHarness("abuse-test");
const settle = harness.settle;

let handle: Awaited<ReturnType<typeof harness.freshDatabase>>;
let mailer: CapturingMailer;
let store: CodeStore;
let accounts: ReturnType<typeof createAccounts>;
let services: Services;
let tokens: SignupTokens;

async function wire(codeStore: CodeStore, cfg = config) {
  handle = await harness.freshDatabase();
  tokens = new SignupTokens();
  mailer = new CapturingMailer();
  store = codeStore;
  // As in the app (Next's after()): mail that must not show in the answer's timing is sent after it.
  services = wireServices({ db: handle.db, store, mailer, config: cfg, now: () => Date.now(), defer: harness.defer });
  accounts = services.accounts;
}

/** Each request from its own address unless a test gives one: per-IP caps are tested on their own. */
let ipCounter = 0;
const freshIp = () => `198.18.${Math.floor(ipCounter / 250) % 250}.${(ipCounter++ % 250) + 1}`;

// Each signup's client keeps its registration token and shows it when it verifies (testing/signups.ts).
const register = async (input: Record<string, unknown>, ip = freshIp()) =>
  tokens.remember(await accounts.register(registerSchema(config.passwordMinLength).parse(input), { ip }));
const verify = (
  email: string,
  otp: string,
  ip = freshIp(),
  extra: { registration?: string; name?: string; password?: string } = { registration: tokens.of(email) },
) => accounts.verifyEmail(verifyInputSchema(config.passwordMinLength).parse({ email, otp, ...extra }), { ip });
const resend = async (email: string, ip = freshIp()) => {
  const result = await accounts.resendCode(resendSchema.parse({ email }).email, { ip });
  await settle();
  return result;
};
/** A login and what runs after its response (a success clears the account's counters then). */
const login = async (email: string, password: string, ip = freshIp()) => {
  const result = await accounts.authenticate(loginSchema.parse({ email, password }), { ip });
  await settle();
  return result;
};

/** A code different from every code in `codes` (so a guess is surely wrong for both live codes). */
const wrongCodeForAll = wrongCodeFor;

async function userCount(email: string): Promise<number> {
  const result = await handle.client.execute({ sql: "SELECT count(*) AS n FROM users WHERE email = ?", args: [email] });
  return Number(result.rows[0]!.n);
}

async function registerAndGetCode(email: string, name = "Ada Lovelace", password = PASSWORD): Promise<string> {
  const result = await register({ name, email, password });
  expect(withoutToken(result)).toEqual({ ok: true, email, delivery: "sent" });
  return mailer.lastCode(email);
}

async function verifiedAccount(email: string, password = PASSWORD): Promise<void> {
  const code = await registerAndGetCode(email, "Ada Lovelace", password);
  expect((await verify(email, code)).ok).toBe(true);
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
  // Loose enough for a busy 2-core machine, tight enough to catch a skipped hash (~15 ms) or mail hand-off (40 ms here).
  const allowed = Math.max(12, 0.4 * Math.max(ma, mb));
  expect(Math.abs(ma - mb), `${label}: medians ${ma.toFixed(1)} ms vs ${mb.toFixed(1)} ms (allowed ${allowed.toFixed(1)} ms)`).toBeLessThanOrEqual(allowed);
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { ms: performance.now() - started, result };
}

/**
 * `runs` signups to each kind of address (fresh{i}, unverified{i}, verified{i}@example.com), interleaved so drift
 * in machine load falls on all three alike: each kind's times, and the distinct answers without token and address.
 */
async function timedSignups(runs: number) {
  const times = { fresh: [] as number[], unverified: [] as number[], verified: [] as number[] };
  const answers = new Set<string>();
  for (let i = 0; i < runs; i++) {
    for (const kind of ["fresh", "unverified", "verified"] as const) {
      const email = `${kind}${i}@example.com`;
      const { ms, result } = await timed(() => register({ name: "Someone", email, password: OTHER_PASSWORD }));
      times[kind].push(ms);
      answers.add(JSON.stringify({ ...withoutToken(result), email: "" }));
    }
  }
  return { times, answers };
}

describe("ipKey", () => {
  it("groups IPv6 addresses of one /64, whatever the notation", () => {
    expect(ipKey("2001:db8::1")).toBe(ipKey("2001:db8:0:0:ffff::2"));
    expect(ipKey("2001:db8::1")).toBe(ipKey("2001:0db8:0000:0000:0000:0000:0000:0001"));
    expect(ipKey("2001:DB8::1")).toBe(ipKey("2001:db8::abcd"));
    expect(ipKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
  });

  it("keeps different /64s apart", () => {
    expect(ipKey("2001:db8:0:1::1")).not.toBe(ipKey("2001:db8::1"));
    expect(ipKey("2001:db8:1::1")).not.toBe(ipKey("2001:db8::1"));
    expect(ipKey("2001:db9::1")).not.toBe(ipKey("2001:db8::1"));
  });

  it("reads an IPv4-mapped IPv6 address as the IPv4 address", () => {
    expect(ipKey("::ffff:1.2.3.4")).toBe(ipKey("1.2.3.4"));
    expect(ipKey("::FFFF:1.2.3.4")).toBe("1.2.3.4");
  });

  it("keeps IPv4 addresses apart, one bucket per address", () => {
    expect(ipKey("1.2.3.4")).toBe("1.2.3.4");
    expect(ipKey("1.2.3.5")).not.toBe(ipKey("1.2.3.4"));
    expect(ipKey(" 1.2.3.4 ")).toBe("1.2.3.4");
  });
});

describe("limits on the in-process store, with a fake clock", () => {
  beforeEach(async () => {
    startFakeClock();
    await wire(new MemoryCodeStore());
  });

  describe("code guessing", () => {
    it("after 10 wrong tries spread over 3 codes in an hour, even the right code is refused with rate_limited and Retry-After", async () => {
      expect(config.limits.verifyFailuresPerHour).toBe(10);
      const email = "budget@example.com";
      const c1 = await registerAndGetCode(email);
      for (let i = 0; i < 4; i++) expect(await verify(email, wrongCodeFor(c1))).toEqual({ ok: false, reason: "wrong_code" });

      advance(COOLDOWN_MS + SECOND);
      expect((await resend(email)).ok).toBe(true);
      const c2 = mailer.lastCode(email);
      for (let i = 0; i < 4; i++) expect(await verify(email, wrongCodeForAll(c1, c2))).toEqual({ ok: false, reason: "wrong_code" });

      advance(COOLDOWN_MS + SECOND);
      expect((await resend(email)).ok).toBe(true);
      const c3 = mailer.lastCode(email);
      for (let i = 0; i < 2; i++) expect(await verify(email, wrongCodeForAll(c2, c3))).toEqual({ ok: false, reason: "wrong_code" });

      // 10 wrong tries in the hour: the live, right code is refused too.
      const refused = await verify(email, c3);
      expect(refused).toMatchObject({ ok: false, reason: "rate_limited" });
      const { retryAfterSeconds } = refused as { retryAfterSeconds: number };
      expect(retryAfterSeconds).toBeGreaterThan(3600 - 3 * 60);
      expect(retryAfterSeconds).toBeLessThanOrEqual(3600);
      expect(await verify(email, c2)).toMatchObject({ ok: false, reason: "rate_limited" });
      expect(await findUserByEmail(handle.db, email)).toMatchObject({ isActive: false, emailVerifiedAt: null });

      // The pause ends with the hour: a new code then works.
      advance(HOUR);
      expect((await resend(email)).ok).toBe(true);
      expect(await verify(email, mailer.lastCode(email))).toMatchObject({ ok: true });
    });

    it("after 25 wrong tries in a day (10 an hour), verification pauses for the rest of the day", async () => {
      expect(config.limits.verifyFailuresPerDay).toBe(25);
      const email = "daybudget@example.com";
      let code = await registerAndGetCode(email);
      let previous = code;
      let failures = 0;
      const fail = async (times: number) => {
        for (let i = 0; i < times; i++) {
          expect(await verify(email, wrongCodeForAll(code, previous))).toEqual({ ok: false, reason: "wrong_code" });
          failures++;
        }
      };
      const newCode = async () => {
        advance(COOLDOWN_MS + SECOND);
        expect((await resend(email)).ok).toBe(true);
        previous = code;
        code = mailer.lastCode(email);
      };
      // Hour 1 and 2: 10 each (4 + 4 + 2 over three codes); hour 3: 5.
      for (let hour = 0; hour < 2; hour++) {
        await fail(4);
        await newCode();
        await fail(4);
        await newCode();
        await fail(2);
        advance(HOUR);
        await newCode();
      }
      await fail(4);
      await newCode();
      await fail(1);
      expect(failures).toBe(25);

      const refused = await verify(email, code);
      expect(refused).toMatchObject({ ok: false, reason: "rate_limited" });
      expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(2 * 3600);
    });
  });

  describe("sending codes", () => {
    it("sends at most 5 codes per email per hour: the 6th asks to wait out the hour", async () => {
      expect(config.limits.sendsPerHour).toBe(5);
      const email = "hourly@example.com";
      await registerAndGetCode(email);
      for (let i = 2; i <= 5; i++) {
        advance(COOLDOWN_MS + SECOND);
        expect(await resend(email)).toEqual({ ok: true, email, delivery: "sent" });
      }
      advance(COOLDOWN_MS + SECOND);
      const sixth = await resend(email);
      expect(sixth).toMatchObject({ ok: false, reason: "rate_limited" });
      const waited = 5 * (COOLDOWN_MS + SECOND);
      expect((sixth as { retryAfterSeconds: number }).retryAfterSeconds).toBe(Math.ceil((HOUR - waited) / SECOND));
      expect(mailer.to(email)).toHaveLength(5);
      // Re-registering does not get around it either: the answer says the code waits, and for how long.
      const again = await register({ name: "Ada", email, password: PASSWORD });
      expect(withoutToken(again)).toEqual({ ok: true, email, delivery: "wait", retryAfterSeconds: Math.ceil((HOUR - waited) / SECOND) });
      expect(mailer.to(email)).toHaveLength(5);
    });

    it("sends at most 10 codes per email per day, however the hours are spread", async () => {
      expect(config.limits.sendsPerDay).toBe(10);
      const email = "daily@example.com";
      await registerAndGetCode(email);
      for (let i = 2; i <= 10; i++) {
        // Five an hour: a new hour window after every fifth.
        advance(i === 6 ? HOUR : COOLDOWN_MS + SECOND);
        expect(await resend(email), `send ${i}`).toEqual({ ok: true, email, delivery: "sent" });
      }
      advance(2 * HOUR);
      const eleventh = await resend(email);
      expect(eleventh).toMatchObject({ ok: false, reason: "rate_limited" });
      expect((eleventh as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(12 * 3600);
      expect(mailer.to(email)).toHaveLength(10);
    });

    it("within the 60 s cooldown sends nothing and says how long to wait", async () => {
      const email = "cooldown@example.com";
      await registerAndGetCode(email);
      advance(15 * SECOND);
      expect(await resend(email)).toEqual({ ok: false, reason: "rate_limited", retryAfterSeconds: 45 });
      expect(mailer.to(email)).toHaveLength(1);
    });
  });

  describe("login", () => {
    it("an unverified account's login attempts count on its limits: the 11th, even with the pending signup's password, is rate_limited", async () => {
      const email = "pending-login@example.com";
      await registerAndGetCode(email);
      // The hint comes only for a pending signup's password, and every attempt counts, hint or not.
      for (let i = 0; i < 5; i++) expect(await login(email, OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
      for (let i = 0; i < 5; i++) expect(await login(email, PASSWORD)).toEqual({ ok: false, reason: "unverified" });

      const refused = await login(email, PASSWORD);
      expect(refused).toMatchObject({ ok: false, reason: "rate_limited" });
      expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeLessThanOrEqual(15 * 60);
      // Answering "unverified" does not clear the counters either: a pending password cannot be polled without limit.
      advance(15 * MINUTE);
      expect(await login(email, PASSWORD)).toEqual({ ok: false, reason: "unverified" });
    });

    it("an unverified account's attempts count on the per-IP limit too, hint or not", async () => {
      const ip = "203.0.113.33";
      const email = "pending-ip@example.com";
      await registerAndGetCode(email);
      for (let i = 0; i < 9; i++) expect(await login(email, PASSWORD, ip)).toEqual({ ok: false, reason: "unverified" });
      for (let i = 0; i < 21; i++) expect(await login(`nobody${i}@example.com`, PASSWORD, ip)).toEqual({ ok: false, reason: "invalid_credentials" });
      expect(await login("nobody-else@example.com", PASSWORD, ip)).toMatchObject({ ok: false, reason: "rate_limited" });
    });

    it("after 10 failures for one account in 15 minutes answers rate_limited with Retry-After, even for the right password", async () => {
      expect(config.limits.loginFailuresPerAccount).toBe(10);
      const email = "login@example.com";
      await verifiedAccount(email);
      for (let i = 0; i < 10; i++) expect(await login(email, OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });

      const refused = await login(email, PASSWORD);
      expect(refused).toMatchObject({ ok: false, reason: "rate_limited" });
      const { retryAfterSeconds } = refused as { retryAfterSeconds: number };
      expect(retryAfterSeconds).toBeGreaterThan(0);
      expect(retryAfterSeconds).toBeLessThanOrEqual(15 * 60);

      advance(15 * MINUTE);
      expect(await login(email, PASSWORD)).toMatchObject({ ok: true });
    });

    it("a successful login resets the account's failure counter", async () => {
      const email = "reset@example.com";
      await verifiedAccount(email);
      for (let i = 0; i < 9; i++) expect((await login(email, OTHER_PASSWORD)).ok).toBe(false);
      expect(await login(email, PASSWORD)).toMatchObject({ ok: true });
      // Without the reset the second of these would already be the 11th failure.
      for (let i = 0; i < 10; i++) expect(await login(email, OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
      expect(await login(email, PASSWORD)).toMatchObject({ ok: false, reason: "rate_limited" });
    });

    it("locks password login after 100 consecutive failures (the default), even across windows and for the right password, until a reset by code", async () => {
      expect(config.limits.loginLockoutAfter).toBe(100);
      const email = "lockout@example.com";
      await verifiedAccount(email);
      for (let i = 1; i <= 100; i++) {
        expect(await login(email, OTHER_PASSWORD), `failure ${i}`).toEqual({ ok: false, reason: "invalid_credentials" });
        // Stay under the 10-per-15-minutes limit: only the consecutive count accumulates.
        if (i % 10 === 0) advance(15 * MINUTE + SECOND);
      }
      expect(await login(email, PASSWORD)).toEqual({ ok: false, reason: "locked" });
      advance(24 * HOUR);
      expect(await login(email, PASSWORD)).toEqual({ ok: false, reason: "locked" });

      // Only a reset by code (proof of the address) lifts it.
      const recovery = createRecovery({ db: handle.db, store, mailer, config, now: () => Date.now() }, services);
      expect(await recovery.requestPasswordReset(email, { ip: freshIp() })).toEqual({ ok: true });
      await settle();
      const resetCode = mailer.lastCode(email);
      const NEW_PASSWORD = "brand new lighthouse passphrase";
      expect(await recovery.resetPassword({ email, otp: resetCode, password: NEW_PASSWORD }, { ip: freshIp() })).toMatchObject({ ok: true });
      expect(await login(email, NEW_PASSWORD)).toMatchObject({ ok: true });
    });

    it("does not lock after 99 consecutive failures: the right password still works", async () => {
      const email = "almost@example.com";
      await verifiedAccount(email);
      for (let i = 1; i <= 99; i++) {
        expect((await login(email, OTHER_PASSWORD)).ok).toBe(false);
        if (i % 10 === 0) advance(15 * MINUTE + SECOND);
      }
      advance(15 * MINUTE + SECOND);
      expect(await login(email, PASSWORD)).toMatchObject({ ok: true });
    });

    it("limits failed logins per IP across accounts (30 per 15 minutes)", async () => {
      expect(config.limits.loginFailuresPerIp).toBe(30);
      const ip = "203.0.113.30";
      for (let i = 0; i < 30; i++) expect(await login(`nobody${i}@example.com`, PASSWORD, ip)).toEqual({ ok: false, reason: "invalid_credentials" });
      expect(await login("nobody-else@example.com", PASSWORD, ip)).toMatchObject({ ok: false, reason: "rate_limited" });
      // Another address is not affected.
      expect(await login("nobody-else@example.com", PASSWORD, "203.0.113.31")).toEqual({ ok: false, reason: "invalid_credentials" });
    });

    it("a successful login takes its own count back from the per-IP limit (counted before hashing, refunded after)", async () => {
      const ip = "203.0.113.32";
      await verifiedAccount("regular@example.com");
      // 29 failures, then many right logins from the same IP: each counted, then refunded.
      for (let i = 0; i < 29; i++) expect(await login(`nobody${i}@example.com`, PASSWORD, ip)).toEqual({ ok: false, reason: "invalid_credentials" });
      for (let i = 0; i < 5; i++) expect(await login("regular@example.com", PASSWORD, ip)).toMatchObject({ ok: true });
      // Still one failure left on the IP's budget: the 30th failure is answered, the 31st attempt refused.
      expect(await login("nobody-last@example.com", PASSWORD, ip)).toEqual({ ok: false, reason: "invalid_credentials" });
      expect(await login("regular@example.com", PASSWORD, ip)).toMatchObject({ ok: false, reason: "rate_limited" });
    });
  });

  describe("per-IP caps", () => {
    it("caps registrations per IP (20 an hour) across different emails", async () => {
      expect(config.limits.registerPerIpPerHour).toBe(20);
      const ip = "203.0.113.20";
      for (let i = 0; i < 20; i++) {
        expect(await register({ name: "Ada", email: `reg${i}@example.com`, password: PASSWORD }, ip)).toMatchObject({ ok: true });
      }
      const refused = await register({ name: "Ada", email: "reg-extra@example.com", password: PASSWORD }, ip);
      expect(refused).toMatchObject({ ok: false, reason: "rate_limited" });
      expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(3500);
      expect(await userCount("reg-extra@example.com")).toBe(0);
      expect(await register({ name: "Ada", email: "reg-extra@example.com", password: PASSWORD }, "203.0.113.21")).toMatchObject({ ok: true });
    });

    it("caps resends per IP (20 an hour) across different emails", async () => {
      expect(config.limits.resendPerIpPerHour).toBe(20);
      const ip = "203.0.113.40";
      for (let i = 0; i < 20; i++) expect(await resend(`resend${i}@example.com`, ip)).toMatchObject({ ok: true });
      expect(await resend("resend-extra@example.com", ip)).toMatchObject({ ok: false, reason: "rate_limited" });
      expect(await resend("resend-extra@example.com", "203.0.113.41")).toMatchObject({ ok: true });
    });

    it("caps wrong codes per IP (60 an hour) across addresses: then the right code from that IP is refused too, reset and email-change codes as well", async () => {
      expect(config.limits.verifyFailuresPerIpPerHour).toBe(60);
      const ip = "203.0.113.60";
      const email = "spread@example.com";
      const code = await registerAndGetCode(email);
      await verifiedAccount("mover@example.com");
      const mover = (await findUserByEmail(handle.db, "mover@example.com"))!;
      const settings = createAccountSettings({ db: handle.db, store, mailer, config, now: () => Date.now() }, services);
      expect((await settings.requestEmailChange(mover.id, { newEmail: "moved@example.com", password: PASSWORD }, { ip: freshIp() })).ok).toBe(true);
      const changeCode = mailer.lastCode("moved@example.com");
      // 60 guesses, at most 6 per address: no address's own budget (10) is what stops them.
      // Guesses without a signup's token come with the details the guesser chooses (else nothing is checked).
      const chosen = { name: "Guesser", password: OTHER_PASSWORD };
      for (let i = 0; i < 60; i++) expect(await verify(`guess${i % 10}@example.com`, "123456", ip, chosen)).toEqual({ ok: false, reason: "wrong_code" });

      const refused = await verify(email, code, ip);
      expect(refused).toMatchObject({ ok: false, reason: "rate_limited" });
      expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(3500);
      const recovery = createRecovery({ db: handle.db, store, mailer, config, now: () => Date.now() }, services);
      const reset = await recovery.resetPassword({ email: "guess0@example.com", otp: "123456", password: "brand new lighthouse passphrase" }, { ip });
      expect(reset).toMatchObject({ ok: false, reason: "rate_limited" });
      expect(await settings.confirmEmailChange(mover.id, { otp: changeCode }, { ip })).toMatchObject({ ok: false, reason: "rate_limited" });
      expect((await findUserByEmail(handle.db, "mover@example.com"))!.id).toBe(mover.id);

      // Another client is not affected; the hour over, this one may try again.
      expect(await verify(email, code, "203.0.113.61")).toMatchObject({ ok: true });
      advance(HOUR);
      expect(await verify("guess0@example.com", "123456", ip, chosen)).toEqual({ ok: false, reason: "wrong_code" });
    });

    it("puts IPv6 addresses of one /64 in one bucket, and a different /64 in another", async () => {
      for (let i = 1; i <= 20; i++) expect(await resend(`v6-${i}@example.com`, `2001:db8::${i.toString(16)}`)).toMatchObject({ ok: true });
      expect(await resend("v6-extra@example.com", "2001:db8:0:0:ffff::2")).toMatchObject({ ok: false, reason: "rate_limited" });
      expect(await resend("v6-extra@example.com", "2001:db8:0:1::1")).toMatchObject({ ok: true });
    });
  });

  describe("enumeration", () => {
    it("register answers alike for a new, an unverified and a verified email", async () => {
      await registerAndGetCode("unverified@example.com");
      await verifiedAccount("verified@example.com");
      advance(COOLDOWN_MS + SECOND);

      const answers = await Promise.all(
        ["new@example.com", "unverified@example.com", "verified@example.com"].map(async (email) => {
          const result = await register({ name: "Someone", email, password: OTHER_PASSWORD });
          return { ...withoutToken(result), email: "<email>" };
        }),
      );
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
    });

    it("register answers alike for a new and a verified email while mail is down, also when asked twice", async () => {
      await verifiedAccount("verified@example.com");
      advance(COOLDOWN_MS + SECOND);
      mailer.failing = true;

      const twice = async (email: string) => {
        const first = await register({ name: "Someone", email, password: OTHER_PASSWORD });
        const second = await register({ name: "Someone", email, password: OTHER_PASSWORD });
        return [first, second].map((r) => ({ ...withoutToken(r), email: "<email>" }));
      };
      const fresh = await twice("brand-new@example.com");
      const known = await twice("verified@example.com");
      expect(fresh[0]).toMatchObject({ ok: true, delivery: "failed" });
      expect(known).toEqual(fresh);
    });

    it("resend answers alike for an unknown and an unverified email", async () => {
      await registerAndGetCode("waiting@example.com");
      await verifiedAccount("done@example.com");
      advance(COOLDOWN_MS + SECOND);
      const unknown = await resend("unknown@example.com");
      const unverified = await resend("waiting@example.com");
      const verified = await resend("done@example.com");
      expect({ ...unverified, email: "" }).toEqual({ ...unknown, email: "" });
      expect({ ...verified, email: "" }).toEqual({ ...unknown, email: "" });
      // And alike when the limit answers: within the cooldown all three say how long to wait.
      const again = await Promise.all(["unknown@example.com", "waiting@example.com", "done@example.com"].map((e) => resend(e)));
      expect(again[1]).toEqual(again[0]);
      expect(again[2]).toEqual(again[0]);
    });

    it("resend answers alike for an unknown, an unverified and a verified email while mail is down", async () => {
      await registerAndGetCode("waiting@example.com");
      await verifiedAccount("done@example.com");
      advance(COOLDOWN_MS + SECOND);
      mailer.failing = true;
      const answers = await Promise.all(
        ["unknown@example.com", "waiting@example.com", "done@example.com"].map(async (email) => ({ ...(await resend(email)), email: "" })),
      );
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
    });

    it("login answers alike for an unknown email and a wrong password", async () => {
      await verifiedAccount("known@example.com");
      expect(await login("known@example.com", OTHER_PASSWORD)).toEqual(await login("unknown@example.com", OTHER_PASSWORD));
    });

    it("a verified address gets a notice without any 6-digit number instead of a code, and nothing changes", async () => {
      const email = "owner@example.com";
      await verifiedAccount(email);
      const before = await findUserByEmail(handle.db, email);
      const mailsBefore = mailer.sent.length;
      advance(COOLDOWN_MS + SECOND);

      expect(withoutToken(await register({ name: "Intruder", email, password: OTHER_PASSWORD }))).toEqual({ ok: true, email, delivery: "sent" });
      const notices = mailer.sent.slice(mailsBefore);
      expect(notices).toHaveLength(1);
      const notice = notices[0]!;
      expect(notice.to).toBe(email);
      expect(`${notice.subject}\n${notice.text}\n${notice.html}`).not.toMatch(/(?<!\d)\d{6}(?!\d)/);
      expect(notice.text).toMatch(/tried to sign up/i);
      expect(await findUserByEmail(handle.db, email)).toEqual(before);
    });

    it("no email carries text the requester chose: a hostile name appears in none of them", async () => {
      const fresh = "victim-new@example.com";
      const waiting = "victim-waiting@example.com";
      const owner = "victim-owner@example.com";
      await registerAndGetCode(waiting);
      await verifiedAccount(owner);
      mailer.sent.splice(0);
      advance(COOLDOWN_MS + SECOND);

      for (const email of [fresh, waiting, owner]) {
        expect(withoutToken(await register({ name: HOSTILE_NAME, email, password: OTHER_PASSWORD }))).toEqual({ ok: true, email, delivery: "sent" });
      }
      advance(COOLDOWN_MS + SECOND);
      expect((await resend(fresh)).ok).toBe(true);

      // A code to the new address, a code to the waiting one (a signup's code, with its time), a notice to the owner, a resent code.
      expect(mailer.sent.map((m) => m.to)).toEqual([fresh, waiting, owner, fresh]);
      for (const message of mailer.sent) {
        // The code itself is random digits ("305551" holds "555"): only what is not the code counts here.
        const everything = `${message.to}\n${message.subject}\n${message.text}\n${message.html}`.replace(/\b\d{6}\b/g, "CODE");
        for (const fragment of [HOSTILE_NAME, "555 0100", "555", "evil.example", "Call +1"]) {
          expect(everything, `"${fragment}" in the mail "${message.subject}" to ${message.to}`).not.toContain(fragment);
        }
      }
    });
  });

  describe("takeover of an unverified address", () => {
    it("a re-registration within the cooldown mails nothing and changes nothing: the victim's code with the victim's token activates the victim's details", async () => {
      const email = "victim@example.com";
      const victimCode = await registerAndGetCode(email, "Victor Victim", PASSWORD);
      const victimToken = tokens.of(email);
      advance(10 * SECOND);

      const mallory = await register({ name: "Mallory", email, password: OTHER_PASSWORD });
      expect(withoutToken(mallory)).toEqual({ ok: true, email, delivery: "wait", retryAfterSeconds: 50 });
      expect(mailer.to(email)).toHaveLength(1);
      expect(await userCount(email)).toBe(1);
      expect(await findUserByEmail(handle.db, email)).toMatchObject({ name: "", passwordHash: "", emailVerifiedAt: null });

      expect(await verify(email, victimCode, freshIp(), { registration: victimToken })).toMatchObject({
        ok: true,
        signIn: false,
        user: { name: "Victor Victim" },
      });
      expect(await login(email, PASSWORD)).toMatchObject({ ok: true, user: { name: "Victor Victim" } });
      expect(await login(email, OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
    });

    it("a re-registration after the cooldown mails a code saying when someone signed up; either code proves the inbox, and only the victim's token applies the victim's details", async () => {
      const email = "victim2@example.com";
      const victimCode = await registerAndGetCode(email, "Victor Victim", PASSWORD);
      const victimToken = tokens.of(email);
      advance(COOLDOWN_MS + SECOND);

      expect(withoutToken(await register({ name: "Mallory", email, password: OTHER_PASSWORD }))).toEqual({ ok: true, email, delivery: "sent" });
      const malloryToken = tokens.of(email);
      expect(malloryToken).not.toBe(victimToken);
      const mails = mailer.to(email);
      expect(mails).toHaveLength(2);
      // Each code says a signup led to it, and when: the reader can tell their own from someone else's.
      expect(mails[0]?.text).toContain("Someone signed up for");
      expect(mails[0]?.text).toContain("at 2030-01-15 12:00 UTC");
      expect(mails[1]?.text).toContain("Someone signed up for");
      expect(mails[1]?.text).toContain("at 2030-01-15 12:01 UTC");
      const attackerCode = extractCode({ text: mails[1]!.text });

      // Mallory has her token but not the inbox: guesses without the code change nothing.
      expect(await verify(email, wrongCodeFor(victimCode, attackerCode), freshIp(), { registration: malloryToken })).toEqual({
        ok: false,
        reason: "wrong_code",
      });
      // The victim, from her own client, proves the inbox with the newest code (the one Mallory's signup sent): her details apply.
      expect(await verify(email, attackerCode, freshIp(), { registration: victimToken })).toMatchObject({
        ok: true,
        signIn: false,
        user: { name: "Victor Victim" },
      });
      const user = await findUserByEmail(handle.db, email);
      expect(user).toMatchObject({ name: "Victor Victim", isActive: true });
      expect(await login(email, PASSWORD)).toMatchObject({ ok: true });
      expect(await login(email, OTHER_PASSWORD)).toEqual({ ok: false, reason: "invalid_credentials" });
      // The other code is spent with it: Mallory's token, even with a valid-looking code, applies nothing now.
      expect(await verify(email, victimCode, freshIp(), { registration: malloryToken })).toEqual({ ok: false, reason: "used" });
      expect(await findUserByEmail(handle.db, email)).toMatchObject({ name: "Victor Victim" });
    });
  });
});

describe("enumeration timing (real clock, in-process store, a mail transport taking 40 ms)", () => {
  const RUNS = 15;

  beforeEach(async () => {
    startFakeClock();
    await wire(new MemoryCodeStore());
    // A realistic send time (a hosted API over the internet is slower still): whether a path mails must not show.
    mailer.latencyMs = 40;
  });

  it("register takes the same time for a new, an unverified and a verified email (medians of 15)", async () => {
    for (let i = 0; i < RUNS; i++) {
      await registerAndGetCode(`unverified${i}@example.com`);
      await verifiedAccount(`verified${i}@example.com`);
    }
    // Out of every cooldown, so each path does its full work (a code, a fresh code, a notice).
    advance(COOLDOWN_MS + SECOND);
    // Warm-up: first renders and the first hash are slower.
    await register({ name: "Warm", email: "warm@example.com", password: OTHER_PASSWORD });

    const { times, answers } = await timedSignups(RUNS);
    expect([...answers]).toEqual([JSON.stringify({ ok: true, email: "", delivery: "sent" })]);
    expectSimilarTiming("new vs unverified", times.fresh, times.unverified);
    expectSimilarTiming("new vs verified", times.fresh, times.verified);
    expectSimilarTiming("unverified vs verified", times.unverified, times.verified);
  });

  it("login takes the same time for an unknown email as for a wrong password (dummy hash; medians of 15)", async () => {
    await verifiedAccount("known@example.com");
    await login("unknown-warm@example.com", OTHER_PASSWORD); // builds the dummy hash once
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const a = await timed(() => login(`unknown${i}@example.com`, OTHER_PASSWORD));
      const b = await timed(() => login("known@example.com", OTHER_PASSWORD));
      expect(a.result).toEqual({ ok: false, reason: "invalid_credentials" });
      expect(b.result).toEqual({ ok: false, reason: "invalid_credentials" });
      unknown.push(a.ms);
      wrong.push(b.ms);
      await services.loginAttempts.clearLoginFailures("known@example.com"); // stay under the per-account limit (not timed)
    }
    expectSimilarTiming("unknown email vs wrong password", unknown, wrong);
  });

  it("resend takes the same time for an unknown email as for an unverified one (medians of 15)", async () => {
    for (let i = 0; i < RUNS; i++) await registerAndGetCode(`waiting${i}@example.com`);
    advance(COOLDOWN_MS + SECOND);
    await resend("warm@example.com");
    const unknown: number[] = [];
    const waiting: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Timed without waiting for the mail handed off after the answer (what the person waits for).
      const a = await timed(() => accounts.resendCode(`unknown${i}@example.com`, { ip: freshIp() }));
      const b = await timed(() => accounts.resendCode(`waiting${i}@example.com`, { ip: freshIp() }));
      await settle();
      expect({ ...a.result, email: "" }).toEqual({ ...b.result, email: "" });
      unknown.push(a.ms);
      waiting.push(b.ms);
    }
    expectSimilarTiming("resend: unknown vs unverified", unknown, waiting);
  });
});

/**
 * One redis-server, and a real three-master Redis Cluster: there an address's record and counters share a
 * slot, while the client IP's counters (one slot per bucket), the product-wide guessing counter and an
 * account's records each hash elsewhere, so each limit is held in its own slot (lib/store/slots.ts).
 */
const redisDeployments: Array<{ name: string; start: () => Promise<Pick<RedisServer, "url" | "stop" | "start">> }> = [
  { name: "one redis-server", start: startRedis },
  { name: "a three-master Redis Cluster", start: startRedisCluster },
];

describe.each(redisDeployments)("on the real Redis store: $name", ({ start }) => {
  let redis: Pick<RedisServer, "url" | "stop" | "start">;
  let redisStore: RedisCodeStore;

  beforeAll(async () => {
    redis = await start();
    // Not connected yet: the first test's 20 parallel registrations also meet a cold client.
    redisStore = new RedisCodeStore(redis.url);
  });

  afterAll(async () => {
    await redisStore?.close().catch(() => {});
    await redis?.stop();
  });

  beforeEach(async () => {
    await wire(redisStore);
  });

  const unique = (label: string) => `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;

  it("20 parallel registrations of one email create exactly one row, answer alike and mail one code", async () => {
    const email = unique("race");
    const results = await Promise.all(Array.from({ length: 20 }, () => register({ name: "Ada", email, password: PASSWORD })));
    // One code goes out; the other 19 are told it waits out the cooldown (as they would be for any address).
    const answers = results.map((r) => withoutToken(r));
    expect(answers.filter((a) => a.ok && a.delivery === "sent")).toEqual([{ ok: true, email, delivery: "sent" }]);
    const waits = answers.filter((a) => a.ok && a.delivery === "wait");
    expect(waits).toHaveLength(19);
    for (const wait of waits) expect(wait).toEqual({ ok: true, email, delivery: "wait", retryAfterSeconds: expect.any(Number) });
    for (const wait of waits) expect((wait as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    for (const wait of waits) expect((wait as { retryAfterSeconds: number }).retryAfterSeconds).toBeLessThanOrEqual(COOLDOWN_MS / SECOND);
    expect(await userCount(email)).toBe(1);
    expect(mailer.to(email)).toHaveLength(1);
    // Racing writes may drop some pending registrations; one that stayed completes the signup.
    const pending: string[] = [];
    for (const r of results) if (r.ok && (await accounts.isPendingSignup(email, r.registration))) pending.push(r.registration);
    expect(pending.length).toBeGreaterThanOrEqual(1);
    expect(await verify(email, mailer.lastCode(email), freshIp(), { registration: pending[0] })).toMatchObject({ ok: true, signIn: false });
  });

  it("20 parallel verifications with the right code: exactly one activation, the rest used", async () => {
    const email = unique("verify-race");
    const code = await registerAndGetCode(email);
    const results = await Promise.all(Array.from({ length: 20 }, () => verify(email, code)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual(Array.from({ length: 19 }, () => ({ ok: false, reason: "used" })));
  });

  it("50 parallel wrong guesses: never more than 5 evaluated, the code is then void for the right code too", async () => {
    const email = unique("guess-race");
    const code = await registerAndGetCode(email);
    const results = await Promise.all(Array.from({ length: 50 }, () => verify(email, wrongCodeFor(code))));
    const reasons = results.map((r) => (r.ok ? "ok" : r.reason));
    expect(reasons.filter((r) => r === "wrong_code")).toHaveLength(config.codes.maxAttempts - 1);
    expect(reasons.filter((r) => r === "too_many_attempts")).toHaveLength(50 - (config.codes.maxAttempts - 1));
    expect(await verify(email, code)).toEqual({ ok: false, reason: "too_many_attempts" });
    expect(await findUserByEmail(handle.db, email)).toMatchObject({ isActive: false });
  });

  it("20 parallel resends once the cooldown is over: exactly one code mailed, the rest asked to wait", async () => {
    const email = unique("resend-race");
    await registerAndGetCode(email);
    // End the cooldown as if the minute had passed (the real clock runs here).
    await redisStore.limits("reset", sendLimits(config, emailId(config.codes.hmacKey, email), "verify_email").slice(0, 1));
    const results = await Promise.all(Array.from({ length: 20 }, () => resend(email)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === "rate_limited")).toBe(true);
    expect(mailer.to(email)).toHaveLength(2);
  });

  it("caps wrong codes per IP (60 an hour) across addresses, each address's own budget untouched: then the right code from that IP is refused, an email change's too", async () => {
    const ip = "203.0.113.160";
    const email = unique("spread");
    const code = await registerAndGetCode(email);
    const moverEmail = unique("mover");
    await verifiedAccount(moverEmail);
    const mover = (await findUserByEmail(handle.db, moverEmail))!;
    const settings = createAccountSettings({ db: handle.db, store, mailer, config, now: () => Date.now() }, services);
    const newEmail = unique("moved");
    expect((await settings.requestEmailChange(mover.id, { newEmail, password: PASSWORD }, { ip: freshIp() })).ok).toBe(true);
    const changeCode = mailer.lastCode(newEmail);
    const chosen = { name: "Guesser", password: OTHER_PASSWORD };
    const guessed = Array.from({ length: 10 }, (_, i) => unique(`guess${i}`));
    for (let i = 0; i < 60; i++) expect(await verify(guessed[i % 10]!, "123456", ip, chosen)).toEqual({ ok: false, reason: "wrong_code" });

    const refused = await verify(email, code, ip);
    expect(refused).toMatchObject({ ok: false, reason: "rate_limited" });
    expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(3500);
    expect(await settings.confirmEmailChange(mover.id, { otp: changeCode }, { ip })).toMatchObject({ ok: false, reason: "rate_limited" });
    // Refused by the IP before the record was looked at: both codes still work from another client.
    expect(await verify(email, code, "203.0.113.161")).toMatchObject({ ok: true });
    expect(await settings.confirmEmailChange(mover.id, { otp: changeCode }, { ip: "203.0.113.161" })).toMatchObject({ ok: true });
  }, 60_000);

  it("limits failed logins per IPv6 client (30 per /64) across accounts, and a right password takes its own count back", async () => {
    const ip = "2001:db8:77:1::5";
    const regular = unique("regular");
    await verifiedAccount(regular);
    for (let i = 0; i < 29; i++) expect(await login(unique("nobody"), PASSWORD, ip)).toEqual({ ok: false, reason: "invalid_credentials" });
    for (let i = 0; i < 3; i++) expect(await login(regular, PASSWORD, ip)).toMatchObject({ ok: true });
    // One failure left on the /64's budget: the 30th failure is answered, the next attempt refused, the right password too.
    expect(await login(unique("nobody-last"), PASSWORD, ip)).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await login(regular, PASSWORD, ip)).toMatchObject({ ok: false, reason: "rate_limited" });
    // Another /64 of the same /48 still has its own budget (the /56 and /48 ones are larger).
    expect(await login(regular, PASSWORD, "2001:db8:77:2::5")).toMatchObject({ ok: true });
  }, 60_000);

  it("fails closed while Redis is down (register, resend, verify, login throw StoreUnavailableError), and the account made before completes verification once Redis is back", async () => {
    const email = unique("outage");
    const before = unique("outage-new");
    const code = await registerAndGetCode(email);

    await redis.stop();
    try {
      await expect(register({ name: "Ada", email: before, password: PASSWORD })).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(resend(email)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(verify(email, code)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(login(email, PASSWORD)).rejects.toBeInstanceOf(StoreUnavailableError);
      // Nothing half-done: no account for the refused registration, the earlier one untouched.
      expect(await userCount(before)).toBe(0);
      expect(await findUserByEmail(handle.db, email)).toMatchObject({ isActive: false, emailVerifiedAt: null });
    } finally {
      await redis.start();
    }

    // The same store object recovers once Redis answers again.
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await redisStore.ping();
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    // This Redis has no persistence, so the first code went with it, and the pending signup too: the person
    // asks for a new code, and their token no longer applies anything, so they choose their password again.
    expect(await resend(email)).toEqual({ ok: true, email, delivery: "sent" });
    const code2 = mailer.lastCode(email);
    expect(await verify(email, code2)).toEqual({ ok: false, reason: "choose_password" });
    expect(await verify(email, code2, freshIp(), { name: "Ada Again", password: OTHER_PASSWORD })).toMatchObject({
      ok: true,
      signIn: true,
      user: { email, name: "Ada Again", isActive: true },
    });
    expect(await login(email, OTHER_PASSWORD)).toMatchObject({ ok: true });
  }, 60_000);
});

describe("enumeration with the delivery queue (as the app runs: mail queued in the store, a transport taking 40 ms)", () => {
  const RUNS = 15;

  beforeEach(async () => {
    startFakeClock();
    handle = await harness.freshDatabase();
    tokens = new SignupTokens();
    mailer = new CapturingMailer();
    mailer.latencyMs = 40;
    store = new MemoryCodeStore();
    const deliveries = createDeliveryQueue({ store, mailer, sealKey: config.codes.payloadKey, ratePerSecond: 0, defer: harness.defer });
    services = wireServices({ db: handle.db, store, mailer, config, now: () => Date.now(), defer: harness.defer, deliveries });
    accounts = services.accounts;
  });

  async function queuedSignup(email: string, verifyIt: boolean): Promise<void> {
    expect(withoutToken(await register({ name: "Ada Lovelace", email, password: PASSWORD }))).toEqual({ ok: true, email, delivery: "sending" });
    await settle();
    if (verifyIt) expect((await verify(email, mailer.lastCode(email))).ok).toBe(true);
  }

  it("register answers alike and takes the same time for a new, an unverified and a verified email, and their delivery states end alike (medians of 15)", async () => {
    for (let i = 0; i < RUNS; i++) {
      await queuedSignup(`unverified${i}@example.com`, false);
      await queuedSignup(`verified${i}@example.com`, true);
    }
    advance(COOLDOWN_MS + SECOND);
    await register({ name: "Warm", email: "warm@example.com", password: OTHER_PASSWORD });
    await settle();

    const { times, answers } = await timedSignups(RUNS);
    expect([...answers]).toEqual([JSON.stringify({ ok: true, email: "", delivery: "sending" })]);
    expectSimilarTiming("queued: new vs unverified", times.fresh, times.unverified);
    expectSimilarTiming("queued: new vs verified", times.fresh, times.verified);
    expectSimilarTiming("queued: unverified vs verified", times.unverified, times.verified);
    await settle();
    const states = new Set<string | undefined>();
    for (const kind of ["fresh", "unverified", "verified"]) states.add(await accounts.deliveryStatus(`${kind}0@example.com`, "verify_email"));
    expect([...states]).toEqual(["sent"]);
  });

  it("resend answers alike for an unknown, a verified and an unverified email, and the delivery state moves alike (a decoy where nothing is sent)", async () => {
    await queuedSignup("waiting@example.com", false);
    await queuedSignup("done@example.com", true);
    advance(COOLDOWN_MS + SECOND);
    const emails = ["unknown@example.com", "done@example.com", "waiting@example.com"];
    const answers = await Promise.all(emails.map((email) => accounts.resendCode(email, { ip: freshIp() })));
    expect(new Set(answers.map((a) => JSON.stringify({ ...a, email: "" })))).toEqual(new Set([JSON.stringify({ ok: true, email: "", delivery: "sending" })]));
    expect(await Promise.all(emails.map((email) => accounts.deliveryStatus(email, "verify_email")))).toEqual(["sending", "sending", "sending"]);
    await settle();
    expect(await Promise.all(emails.map((email) => accounts.deliveryStatus(email, "verify_email")))).toEqual(["sent", "sent", "sent"]);
    expect(mailer.to("unknown@example.com")).toEqual([]);
  });
});
