import { connect } from "node:net";
import nodemailer, { type Transporter } from "nodemailer";
import { Resend } from "resend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./free-port";
import { clearMail, extractCode, listMail, waitForCode, waitForMail } from "../mailbox";
import { startRedis } from "./redis-server";
import { startResendStub } from "./resend-stub";
import { startSmtpSink, type SmtpSink } from "./smtp-sink";

describe("freePort", () => {
  it("returns a port nothing listens on", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await accepts(port)).toBe(false);
  });
});

describe("startRedis", () => {
  it("starts a throwaway server that can be stopped and started again on the same port", async () => {
    const redis = await startRedis();
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(redis.port).not.toBe(6379);
      expect(await accepts(redis.port)).toBe(true);
      await redis.stop();
      expect(await accepts(redis.port)).toBe(false);
      await redis.stop(); // idempotent
      await redis.start();
      expect(await accepts(redis.port)).toBe(true);
    } finally {
      await redis.stop();
    }
  });
});

describe("SMTP sink and mailbox", () => {
  let sink: SmtpSink;
  let transport: Transporter;
  const send = (to: string, text: string, subject = "Your code") =>
    transport.sendMail({ from: "Verified Signup <no-reply@example.test>", to, subject, text, html: `<p>${text}</p>` });

  beforeAll(async () => {
    sink = await startSmtpSink();
    process.env.E2E_MAILBOX_URL = sink.mailboxUrl;
    transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: sink.port,
      secure: false,
      ignoreTLS: true,
      auth: { user: "app", pass: "anything" },
    });
  });
  afterAll(async () => {
    transport?.close();
    await sink?.close();
  });

  it("receives mail and parses it", async () => {
    await send("Alice@Example.test", "Your code is 123456. It expires in 10 minutes.");
    const mail = await sink.waitForMail("alice@example.test");
    expect(mail.to.map((a) => a.toLowerCase())).toEqual(["alice@example.test"]);
    expect(mail.from).toBe('"Verified Signup" <no-reply@example.test>');
    expect(mail.subject).toBe("Your code");
    expect(mail.text).toContain("123456");
    expect(mail.html).toContain("<p>");
    expect(mail.headers["message-id"]).toMatch(/^<.+>$/);
    expect(extractCode(mail)).toBe("123456");
  });

  it("serves mail over HTTP to other processes, filtered by recipient and time", async () => {
    const before = Date.now();
    await send("bob@example.test", "Code: 111111");
    await send("carol@example.test", "Code: 222222");
    expect(await waitForCode("BOB@example.test", { after: before })).toBe("111111");
    const after = Date.now();
    const later = waitForCode("bob@example.test", { after });
    await send("bob@example.test", "Your new code is 333333");
    expect(await later).toBe("333333");
    const withPredicate = await waitForMail("carol@example.test", { predicate: (m) => m.text.includes("222222") });
    expect(withPredicate.to).toEqual(["carol@example.test"]);
    await clearMail("bob@example.test");
    expect(await listMail("bob@example.test")).toEqual([]);
    expect((await listMail("carol@example.test")).length).toBe(1);
  });

  it("times out with a message that lists what did arrive", async () => {
    await send("dave@example.test", "no code here", "Welcome");
    await expect(waitForMail("dave@example.test", { timeoutMs: 200, predicate: () => false })).rejects.toThrow(
      /No matching mail to dave@example.test within 200 ms; mail received for that address:\n.*"Welcome"/,
    );
  });

  it("refuses mail when told to, and stops and starts again on the same port", async () => {
    sink.failWith = { code: 451, message: "Try again later" };
    await expect(send("erin@example.test", "Code 444444")).rejects.toThrow(/451/);
    sink.failWith = null;

    await sink.stop();
    expect(await accepts(sink.port)).toBe(false);
    await expect(send("erin@example.test", "Code 444444")).rejects.toThrow();
    await sink.start();
    await send("erin@example.test", "Code 555555");
    expect(await waitForCode("erin@example.test")).toBe("555555");
  });
});

describe("extractCode", () => {
  it("takes the first standalone 6-digit number of the text part", () => {
    expect(extractCode({ text: "Order 1234567, ref 12345, code 654321 then 111111" })).toBe("654321");
    expect(extractCode({ text: "", html: "<td>987654</td>" })).toBe("987654");
    expect(() => extractCode({ text: "no code" })).toThrow(/No 6-digit code/);
  });
});

describe("Resend stub", () => {
  it("answers the resend SDK with an id and records the request", async () => {
    const stub = await startResendStub();
    try {
      const resend = new Resend("re_test_key", { baseUrl: stub.baseUrl });
      const { data, error } = await resend.emails.send({
        from: "no-reply@example.test",
        to: "frank@example.test",
        subject: "Your code",
        text: "Code 777777",
      });
      expect(error).toBeNull();
      expect(data?.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(stub.requests).toHaveLength(1);
      expect(stub.requests[0]).toMatchObject({ method: "POST", path: "/emails", body: { to: "frank@example.test", text: "Code 777777" } });
      expect(stub.requests[0]?.headers.authorization).toBe("Bearer re_test_key");

      stub.failWith = { status: 500 };
      const failed = await resend.emails.send({ from: "no-reply@example.test", to: "x@example.test", subject: "s", text: "t" });
      expect(failed.error).toMatchObject({ statusCode: 500 });

      const anonymous = await fetch(`${stub.baseUrl}/emails`, { method: "POST", body: "{}" });
      expect(anonymous.status).toBe(401);
    } finally {
      await stub.stop();
    }
  });
});

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
