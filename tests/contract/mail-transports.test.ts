import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractCode } from "@/testing/mailbox";
import { startResendStub, type ResendStub } from "@/testing/services/resend-stub";
import { startSmtpSink, type SmtpSink } from "@/testing/services/smtp-sink";
import { parseConfig } from "@/lib/platform/config";
import { MailDeliveryError } from "@/lib/mail/mailer";
import { codeEmailElement, codeMessage, noticeMessage, renderBody, verificationCodeMessage, type CodeOccasion } from "@/lib/mail/messages";
import { CODE_PURPOSES } from "@/lib/codes/codes";
import { ResendMailer } from "@/lib/mail/resend";
import { SmtpMailer } from "@/lib/mail/smtp";

const MAIL_FROM = "Verified Signup <no-reply@signup.example>";

const message = (to: string, code: string) => verificationCodeMessage({ appName: "Verified Signup", to, code, validMinutes: 10 });

/** An SmtpMailer built the way the app builds it: from the environment through parseConfig. */
function smtpMailerFor(port: number): SmtpMailer {
  const config = parseConfig({ SMTP_URL: `smtp://127.0.0.1:${port}`, MAIL_FROM });
  if (config.mail.kind !== "smtp") throw new Error(`expected an SMTP config, got ${config.mail.kind}`);
  return new SmtpMailer(config.mail, config.mail.from);
}

describe("verificationCodeMessage", () => {
  it("puts the code and its 10-minute validity in the text and html, and no code in the subject", async () => {
    const built = await message("ada@example.com", "031415");
    expect(built.to).toBe("ada@example.com");
    expect(built.subject).toMatch(/verification code/i);
    expect(built.subject).not.toMatch(/\d{6}/);
    expect(built.text).toContain("031415");
    expect(built.text).toContain("10 minutes");
    expect(built.html).toContain("031415");
    expect(built.html).toContain("10 minutes");
    expect(extractCode({ text: built.text })).toBe("031415");
  });
});

describe("codeMessage (each body rendered once, the code put in per message)", () => {
  it("equals a fresh render for every purpose, code and variant, and carries only its own code", async () => {
    const AT = Date.UTC(2030, 0, 15, 12, 0, 0);
    const occasions: Array<{ occasion?: CodeOccasion; at?: number }> = [
      {},
      { occasion: "signup", at: AT },
      { occasion: "signup", at: AT + 60_000 },
      { occasion: "resend", at: AT },
      { occasion: "sign_in_unverified", at: AT },
    ];
    for (const purpose of CODE_PURPOSES) {
      for (const variant of occasions) {
        for (const [code, validMinutes] of [
          ["031415", 10],
          ["999999", 10],
          ["000000", 3],
          ["123456", 10],
        ] as const) {
          const input = { purpose, appName: "Verified Signup", code, validMinutes, ...variant };
          const built = await codeMessage({ ...input, to: "ada@example.com" });
          const fresh = await renderBody(codeEmailElement(input));
          expect(built.html).toBe(fresh.html);
          expect(built.text).toBe(fresh.text);
          expect(built.html.split(code)).toHaveLength(2);
          expect(extractCode({ text: built.text })).toBe(code);
        }
      }
    }
  });

  it("a code mail names its occasion and time: a signup's, a resend's, an unverified sign-in's", async () => {
    const at = Date.UTC(2030, 0, 15, 12, 0, 0);
    const input = { appName: "Verified Signup", to: "ada@example.com", code: "314159", validMinutes: 10, at };
    const signup = await verificationCodeMessage({ ...input, occasion: "signup" });
    expect(signup.text).toContain("Someone signed up for Verified Signup with this address at 2030-01-15 12:00 UTC. If that was you");
    const later = await verificationCodeMessage({ ...input, occasion: "signup", at: at + 61_000 });
    expect(later.text).toContain("at 2030-01-15 12:01 UTC");
    const resend = await verificationCodeMessage({ ...input, occasion: "resend" });
    expect(resend.text).toContain("was asked for at 2030-01-15 12:00 UTC");
    const signIn = await verificationCodeMessage({ ...input, occasion: "sign_in_unverified" });
    expect(signIn.text).toContain("Someone asked at 2030-01-15 12:00 UTC to sign in to Verified Signup");
    for (const built of [signup, later, resend, signIn]) {
      // An address nobody has proven: the mail says a password chosen without the inbox never works.
      expect(built.text).toMatch(/no password chosen by someone who cannot read this inbox will ever work/);
      expect(extractCode({ text: built.text })).toBe("314159");
    }
    // Without an occasion, the plain wording.
    expect((await verificationCodeMessage(input)).text).toContain("Enter this code to confirm your email address");
  });

  it("the signed-in-by-code notice promises no way out it does not offer: it points to a reset, which ends every session", async () => {
    const notice = await noticeMessage("signed_in_by_code", { appName: "Verified Signup", to: "ada@example.com" });
    expect(notice.text).not.toMatch(/sign out of every session from your account page/i);
    expect(notice.text).toMatch(/reset your password/i);
    expect(notice.text).toMatch(/a reset ends every session/i);
    expect(`${notice.subject}${notice.text}`).not.toMatch(/\b\d{6}\b/);
  });

  it("the signed-in-by-code notice points to the list of sessions on the account page (/account#sessions)", async () => {
    const notice = await noticeMessage("signed_in_by_code", { appName: "Verified Signup", to: "ada@example.com" });
    expect(notice.text).toContain("/account#sessions");
    expect(notice.html).toContain("/account#sessions");
  });

  it("never leaves the placeholder in a message, whatever the code", async () => {
    const built = await codeMessage({ purpose: "sign_in", appName: "Verified Signup", to: "ada@example.com", code: "424242", validMinutes: 7 });
    expect(built.html + built.text).not.toMatch(/QZXQZX/);
  });
});

describe("SmtpMailer", () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink?.close();
  });

  it("delivers the code email to an SMTP server: subject, text and html parts, code readable, From is MAIL_FROM", async () => {
    const mailer = smtpMailerFor(sink.port);
    await mailer.send(await message("ada@example.com", "271828"));

    const mail = await sink.waitForMail("ada@example.com");
    expect(mail.to).toEqual(["ada@example.com"]);
    expect(mail.subject).toBe("Your Verified Signup verification code");
    expect(mail.text).toContain("271828");
    expect(mail.text).toContain("10 minutes");
    expect(mail.html).toMatch(/<html/i);
    expect(mail.html).toContain("271828");
    expect(extractCode(mail)).toBe("271828");
    expect(mail.from).toBe('"Verified Signup" <no-reply@signup.example>');
    expect(mail.headers["content-type"]).toMatch(/multipart\/alternative/);
  });

  it("throws MailDeliveryError when the server refuses the message", async () => {
    const mailer = smtpMailerFor(sink.port);
    sink.failWith = { code: 550, message: "Mailbox unavailable" };
    try {
      const error = await mailer.send(await message("refused@example.com", "111111")).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MailDeliveryError);
    } finally {
      sink.failWith = null;
    }
    expect(sink.messages.filter((m) => m.to.includes("refused@example.com"))).toHaveLength(0);
  });

  it("throws MailDeliveryError promptly when the server is down, and delivers again once it is back", async () => {
    const mailer = smtpMailerFor(sink.port);
    await mailer.send(await message("before@example.com", "222222")); // a pooled connection is now open
    await sink.stop();
    try {
      const started = Date.now();
      const error = await mailer.send(await message("down@example.com", "333333")).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MailDeliveryError);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await sink.start();
    }
    await mailer.send(await message("after@example.com", "444444"));
    expect(extractCode(await sink.waitForMail("after@example.com"))).toBe("444444");
  });
});

describe("ResendMailer", () => {
  let stub: ResendStub;
  const apiKey = "re_test_0123456789abcdef";
  beforeAll(async () => {
    stub = await startResendStub();
  });
  afterAll(async () => {
    await stub?.stop();
  });

  it("POSTs /emails with the Bearer key and a JSON body of from, to, subject, html and text", async () => {
    const mailer = new ResendMailer(apiKey, MAIL_FROM, stub.baseUrl);
    const sent = await message("ada@example.com", "161803");
    stub.requests.length = 0;

    await mailer.send(sent);

    expect(stub.requests).toHaveLength(1);
    const request = stub.requests[0]!;
    expect(request.method).toBe("POST");
    expect(request.path).toBe("/emails");
    expect(request.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(request.headers["content-type"]).toMatch(/application\/json/);
    expect(request.body).toMatchObject({
      from: MAIL_FROM,
      to: "ada@example.com",
      subject: sent.subject,
      html: sent.html,
      text: sent.text,
    });
    expect(extractCode(request.body as { text: string })).toBe("161803");
  });

  it("is configured from RESEND_API_KEY and RESEND_BASE_URL", async () => {
    const config = parseConfig({ RESEND_API_KEY: apiKey, RESEND_BASE_URL: stub.baseUrl, MAIL_FROM });
    if (config.mail.kind !== "resend") throw new Error(`expected a Resend config, got ${config.mail.kind}`);
    stub.requests.length = 0;

    await new ResendMailer(config.mail.apiKey, config.mail.from, config.mail.baseUrl).send(await message("bob@example.com", "000001"));

    expect(stub.requests).toHaveLength(1);
    expect(stub.requests[0]?.body).toMatchObject({ from: MAIL_FROM, to: "bob@example.com" });
  });

  it.each([422, 429, 500])("throws MailDeliveryError when the API answers %i", async (status) => {
    const mailer = new ResendMailer(apiKey, MAIL_FROM, stub.baseUrl);
    stub.failWith = { status };
    try {
      const error = await mailer.send(await message("ada@example.com", "123123")).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MailDeliveryError);
    } finally {
      stub.failWith = null;
    }
  });

  it("names Resend's refusal: 429 rate_limit_exceeded with retry-after above the team's rate, retryable", async () => {
    const limited = await startResendStub({ ratePerSecond: 2 });
    try {
      const mailer = new ResendMailer(apiKey, MAIL_FROM, limited.baseUrl);
      const results = await Promise.all([1, 2, 3].map(async (n) => mailer.send(await message(`r${n}@example.com`, "123123")).catch((e: unknown) => e)));
      const refused = results.filter((r) => r instanceof MailDeliveryError) as MailDeliveryError[];
      expect(refused).toHaveLength(1);
      expect(refused[0]!.refusal).toMatchObject({ provider: "resend", status: 429, name: "rate_limit_exceeded", retryable: true, retryAfterMs: 1000 });
      expect(refused[0]!.describe()).toBe("resend 429 rate_limit_exceeded");
      expect(limited.accepted()).toHaveLength(2);
    } finally {
      await limited.stop();
    }
  });

  it("names Resend's refusal of an unverified sending domain: 403 validation_error, not retryable, the domain in the detail and no address", async () => {
    const refusing = await startResendStub({ unverifiedDomains: ["signup.example"] });
    try {
      const error = (await new ResendMailer(apiKey, MAIL_FROM, refusing.baseUrl)
        .send(await message("ada@example.com", "123123"))
        .catch((e: unknown) => e)) as MailDeliveryError;
      expect(error).toBeInstanceOf(MailDeliveryError);
      expect(error.refusal).toMatchObject({ provider: "resend", status: 403, name: "validation_error", retryable: false });
      expect(error.refusal.detail).toContain("signup.example domain is not verified");
      expect(error.refusal.detail).not.toContain("ada@example.com");
    } finally {
      await refusing.stop();
    }
  });

  it("answers 500 on every n-th message when told to (5xx now and then), which is retryable; 422 is not", async () => {
    const flaky = await startResendStub({ serverErrorEvery: 3 });
    try {
      const mailer = new ResendMailer(apiKey, MAIL_FROM, flaky.baseUrl);
      const outcomes: string[] = [];
      for (let n = 1; n <= 6; n++) {
        const error = await mailer.send(await message(`f${n}@example.com`, "123123")).catch((e: unknown) => e);
        outcomes.push(error instanceof MailDeliveryError ? `${error.refusal.status} ${error.refusal.retryable}` : "ok");
      }
      expect(outcomes).toEqual(["ok", "ok", "500 true", "ok", "ok", "500 true"]);
      flaky.serverErrorEvery = 0;
      flaky.failWith = { status: 422, name: "validation_error" };
      const invalid = (await mailer.send(await message("x@example.com", "123123")).catch((e: unknown) => e)) as MailDeliveryError;
      expect(invalid.refusal).toMatchObject({ status: 422, retryable: false });
    } finally {
      await flaky.stop();
    }
  });

  it("throws MailDeliveryError when the API cannot be reached", async () => {
    const down = await startResendStub();
    const baseUrl = down.baseUrl;
    await down.stop();
    const error = await new ResendMailer(apiKey, MAIL_FROM, baseUrl).send(await message("ada@example.com", "123123")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailDeliveryError);
  });
});
