import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/db/client";
import type { TestStack } from "@/testing/services/app-server";
import { extractCode } from "@/testing/mailbox";
import { registerAndVerify, type Reply } from "@/testing/http-client";
import { ALARM_PER_HOUR, NEW_PASSWORD, withGuessingStack } from "@/testing/guessing";
import { insertUser } from "@/testing/admin-fixtures";
import { parseConfig } from "@/lib/platform/config";
import { hashPassword } from "@/lib/credentials/passwords";
import { createEnrolmentCodes } from "@/lib/credentials/staff-enrolment";
import { createSecondFactor, totpCodeAt } from "@/lib/credentials/totp";
import { uniqueEmail } from "@/testing/people";

/**
 * Guessing spread wide, replayed against the production build: wrong codes sprayed over many addresses from
 * the many /64s of one IPv6 network (a /56 holds 256 of them, a /48 65,536), the product-wide alarm when wrong
 * codes rise far above normal, and a run of wrong second-factor codes on a staff account after its password.
 * Limits are the defaults (60 an hour per /64, 120 per /56, 240 per /48; logins 30, 60, 120 per 15 minutes)
 * except the alarm's level, lowered so a test can reach it.
 */

const AUTH_SECRET = randomBytes(32).toString("base64");
const config = parseConfig({ NODE_ENV: "test", AUTH_SECRET });
const PASSWORD = "velvet hammock orbit lantern 42";

let stack: TestStack;
const { post, alarmEvents, guessReset } = withGuessingStack({ snapshotPrefix: "attack-guessing-", authSecret: AUTH_SECRET }, (started) => {
  stack = started;
});

/** The n-th /64 inside a /48 (`prefix` is its first three groups) and, optionally, inside the /56 whose byte is `byte56`. */
const subnet64 = (prefix: string, n: number, byte56?: number) =>
  `${prefix}:${(byte56 === undefined ? n : (byte56 << 8) | (n & 0xff)).toString(16)}::${(n % 7) + 1}`;

/** Sprays `count` wrong reset codes, 4 per address (under its budget of 10), each from another /64 given by `ipOf`. */
async function spray(count: number, ipOf: (n: number) => string): Promise<Reply[]> {
  const replies: Reply[] = [];
  let email = uniqueEmail("spray");
  for (let n = 0; n < count; n++) {
    if (n % 4 === 0) email = uniqueEmail("spray");
    replies.push(await guessReset(email, ipOf(n)));
  }
  return replies;
}

describe("the product-wide guessing alarm", () => {
  it("wrong codes from many clients above CODE_FAILURE_ALARM_PER_HOUR log code_guessing_alarm; checks are still answered and the right code still works", async () => {
    const owner = uniqueEmail("alarm-owner");
    await registerAndVerify(post, stack.sink, { email: owner, password: PASSWORD });
    const replies = await spray(ALARM_PER_HOUR - 1, (n) => `192.0.2.${n + 1}`);
    expect(replies.every((r) => r.status === 400)).toBe(true);
    expect(alarmEvents()).toEqual([]);
    await guessReset(uniqueEmail("spray"), "198.51.100.200");
    // The next check sees the alarm on: it is logged (no address, no code) and the check is answered as usual.
    const during = await guessReset(uniqueEmail("spray"), "198.51.100.201");
    expect(during.status, during.text).toBe(400);
    const events = alarmEvents();
    expect(events.length).toBe(1);
    expect(JSON.parse(events[0]!)).toMatchObject({ event: "code_guessing_alarm", threshold: ALARM_PER_HOUR, delayMs: 20 });
    expect(events[0]).not.toMatch(/@|000000/);
    // Nobody is blocked by it: a real reset goes through while it is on.
    const since = Date.now();
    expect((await post("/api/password-reset", { email: owner })).status).toBe(200);
    const code = extractCode(await stack.sink.waitForMail(owner, { after: since - 1, predicate: (m) => /password reset code/i.test(m.subject) }));
    const reset = await post("/api/password-reset/confirm", { email: owner, otp: code, password: NEW_PASSWORD });
    expect(reset.status, reset.text).toBe(200);
  });
});

describe("wrong codes sprayed from the many /64s of one IPv6 network", () => {
  it("120 wrong reset codes from 120 different /64s of one /56 spend the /56's budget: the next /64 of that /56 is refused 429, another /56 is not", async () => {
    const replies = await spray(120, (n) => subnet64("2001:db8:5601", n, 0x56));
    expect(replies.map((r) => r.status).filter((s) => s !== 400)).toEqual([]);
    const next = await guessReset(uniqueEmail("spray"), subnet64("2001:db8:5601", 200, 0x56));
    expect(next.status, next.text).toBe(429);
    expect(next.json.error.code).toBe("rate_limited");
    expect(Number(next.headers.get("retry-after"))).toBeGreaterThan(0);
    const elsewhere = await guessReset(uniqueEmail("spray"), subnet64("2001:db8:5601", 1, 0x57));
    expect(elsewhere.status, elsewhere.text).toBe(400);
  });

  it("240 wrong reset codes from 240 different /64s of one /48 (60 in each of four /56s) spend the /48's budget: its next /64 is refused 429, another /48 is not", async () => {
    const replies = await spray(240, (n) => subnet64("2001:db8:4801", n, n % 4));
    expect(replies.map((r) => r.status).filter((s) => s !== 400)).toEqual([]);
    const next = await guessReset(uniqueEmail("spray"), subnet64("2001:db8:4801", 77, 9));
    expect(next.status, next.text).toBe(429);
    expect(next.json.error.code).toBe("rate_limited");
    const elsewhere = await guessReset(uniqueEmail("spray"), subnet64("2001:db8:4802", 1));
    expect(elsewhere.status, elsewhere.text).toBe(400);
  });

  it("120 failed logins from 120 different /64s of one /48 spend its login budget: its next /64 is refused 429 even with a right password", async () => {
    const owner = uniqueEmail("login-owner");
    await registerAndVerify(post, stack.sink, { email: owner, password: PASSWORD });
    for (let n = 0; n < 120; n++) {
      const r = await post(
        "/api/login",
        { email: uniqueEmail("login-spray"), password: "not the password at all, friend" },
        { ip: subnet64("2001:db8:4803", n, n % 4) },
      );
      expect(r.status, r.text).toBe(401);
    }
    const next = await post("/api/login", { email: owner, password: PASSWORD }, { ip: subnet64("2001:db8:4803", 99, 12) });
    expect(next.status, next.text).toBe(429);
    const elsewhere = await post("/api/login", { email: owner, password: PASSWORD }, { ip: subnet64("2001:db8:4804", 1) });
    expect(elsewhere.status, elsewhere.text).toBe(200);
  });
});

describe("a run of wrong second-factor codes on a staff account", () => {
  let handle: ReturnType<typeof openDatabase> | undefined;
  afterAll(() => handle?.client.close());

  it("the third wrong code after the right password mails the account's address a notice (once), with no code in it", async () => {
    handle = openDatabase(stack.databaseUrl);
    await handle.ready;
    const db = handle.db;
    const staff = await insertUser(db, { email: uniqueEmail("staff"), role: "staff", passwordHash: await hashPassword(PASSWORD) });
    const factor = createSecondFactor({ db, config });
    const enrolment = (await factor.pendingEnrolment(staff))!;
    const { code: enrolmentCode } = await createEnrolmentCodes({ db, config }).issue(staff.id);
    expect(await factor.confirmEnrolment(staff.id, totpCodeAt(enrolment.secret, Date.now()), enrolmentCode)).toEqual({ ok: true });
    const wrong = () => String((Number(totpCodeAt(enrolment.secret, Date.now())) + 500_000) % 1_000_000).padStart(6, "0");

    const since = Date.now();
    const ip = "203.0.113.77";
    for (let i = 0; i < 2; i++) expect((await post("/api/login", { email: staff.email, password: PASSWORD, totp: wrong() }, { ip })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(stack.sink.messages.filter((m) => m.to.includes(staff.email))).toEqual([]);
    expect((await post("/api/login", { email: staff.email, password: PASSWORD, totp: wrong() }, { ip })).status).toBe(401);
    const notice = await stack.sink.waitForMail(staff.email, { after: since - 1 });
    expect(notice.subject).toMatch(/wrong authenticator codes/i);
    expect(notice.text).not.toMatch(/\b\d{6}\b/);
    // Later wrong codes of the same run mail nothing more.
    expect((await post("/api/login", { email: staff.email, password: PASSWORD, totp: wrong() }, { ip })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    expect(stack.sink.messages.filter((m) => m.to.includes(staff.email)).length).toBe(1);
  });
});
