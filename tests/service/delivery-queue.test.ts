import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDeliveryQueue, lastRefusal } from "@/lib/mail/delivery-queue";
import { MailDeliveryError, type Mailer, type MailMessage, type MailRefusal } from "@/lib/mail/mailer";
import { MemoryCodeStore } from "@/lib/store/memory";

/**
 * The delivery queue on the in-process store (the Lua version of its state machine is in the store contract
 * tests) with a mailer that answers as told: what is retried, what is not, what state each delivery ends in.
 */

type Answer = "ok" | MailRefusal;

class ScriptedMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  readonly tries: string[] = [];
  /** Answers per recipient, in order; "ok" once they run out. */
  readonly answers = new Map<string, Answer[]>();
  /** While set, sends wait for it. */
  gate?: Promise<void>;

  async send(message: MailMessage): Promise<void> {
    await this.gate;
    this.tries.push(message.to);
    const answer = this.answers.get(message.to)?.shift() ?? "ok";
    if (answer !== "ok") throw new MailDeliveryError(new Error(answer.name), answer);
    this.sent.push(message);
  }

  async verify(): Promise<void> {}
}

const RATE_LIMITED: MailRefusal = { provider: "resend", status: 429, name: "rate_limit_exceeded", retryable: true, retryAfterMs: 300 };
const OUTAGE: MailRefusal = { provider: "resend", status: 503, name: "internal_server_error", retryable: true };
const DOMAIN: MailRefusal = { provider: "resend", status: 403, name: "validation_error", retryable: false, detail: "The example.test domain is not verified." };

const message = (to: string, code = "424242"): MailMessage => ({ to, subject: "Your code", text: `Your code is ${code}`, html: `<p>${code}</p>` });

let store: MemoryCodeStore;
let mailer: ScriptedMailer;
const bodies: string[] = [];

function queue(ratePerSecond = 0) {
  return createDeliveryQueue({ store, mailer, sealKey: randomBytes(32), ratePerSecond, defer: () => {} });
}

beforeEach(() => {
  vi.spyOn(console, "info").mockImplementation(() => {});
  store = new MemoryCodeStore();
  mailer = new ScriptedMailer();
  bodies.length = 0;
  const enqueue = store.enqueueDelivery.bind(store);
  store.enqueueDelivery = async (job) => {
    bodies.push(job.body);
    return enqueue(job);
  };
});

afterEach(() => vi.restoreAllMocks());

describe("delivery queue", () => {
  it("stores each message sealed: no code, address or subject in clear", async () => {
    const q = queue();
    await q.enqueue({ kind: "verify_email", message: message("ada@example.com", "918273"), stateKey: "s:1", lifetimeMs: 60_000 });
    await q.idle();
    expect(bodies).toHaveLength(1);
    for (const text of ["918273", "ada@example.com", "Your code"]) expect(bodies[0]).not.toContain(text);
    expect(mailer.sent.map((m) => m.text)).toEqual(["Your code is 918273"]);
  });

  it("moves the state sending -> sent, and a decoy the same way without sending anything", async () => {
    let open = () => {};
    mailer.gate = new Promise<void>((resolve) => (open = resolve));
    const q = queue();
    expect(await q.enqueue({ kind: "verify_email", message: message("a@example.com"), stateKey: "s:real", lifetimeMs: 60_000 })).toBe("sending");
    expect(await q.enqueue({ kind: "verify_email", stateKey: "s:decoy", lifetimeMs: 60_000 })).toBe("sending");
    expect(await q.state("s:real")).toBe("sending");
    open();
    await q.idle();
    expect([await q.state("s:real"), await q.state("s:decoy")]).toEqual(["sent", "sent"]);
    expect(mailer.tries).toEqual(["a@example.com"]);
  });

  it("retries a 429 after its retry-after, keeping the order, and a 5xx with backoff; each message is sent once", async () => {
    mailer.answers.set("first@example.com", [RATE_LIMITED]);
    mailer.answers.set("flaky@example.com", [OUTAGE]);
    const q = queue();
    for (const to of ["first@example.com", "second@example.com", "flaky@example.com", "last@example.com"]) {
      await q.enqueue({ kind: "verify_email", message: message(to), stateKey: `s:${to}`, lifetimeMs: 60_000 });
    }
    await q.idle();
    expect(mailer.sent.map((m) => m.to)).toEqual(["first@example.com", "second@example.com", "last@example.com", "flaky@example.com"]);
    expect(mailer.tries.filter((to) => to === "first@example.com")).toHaveLength(2);
    expect(await q.state("s:flaky@example.com")).toBe("sent");
  });

  it("never retries a refusal that cannot succeed (403): failed at once, the cooldown given back, the cause kept for doctor", async () => {
    mailer.answers.set("ada@example.com", [DOMAIN]);
    const cooldown = { key: "limit:cooldown:test", limit: 1, windowMs: 60_000 };
    await store.limits("hit", [cooldown]);
    const q = queue();
    await q.enqueue({ kind: "verify_email", message: message("ada@example.com"), stateKey: "s:ada", lifetimeMs: 60_000, resetOnFailure: [cooldown] });
    await q.idle();
    expect(mailer.tries).toEqual(["ada@example.com"]);
    expect(await q.state("s:ada")).toBe("failed");
    expect(await store.limits("check", [cooldown])).toEqual({ allowed: true });
    expect(await lastRefusal(store)).toMatchObject({ provider: "resend", status: 403, name: "validation_error", kind: "verify_email", detail: DOMAIN.detail });
  });

  it("gives up on a retryable refusal once the next try would fall past the message's lifetime", async () => {
    mailer.answers.set("ada@example.com", [OUTAGE, OUTAGE, OUTAGE]);
    const q = queue();
    await q.enqueue({ kind: "verify_email", message: message("ada@example.com"), stateKey: "s:ada", lifetimeMs: 1_500 });
    await q.idle();
    // Tried at once and after 1 s; the next backoff (2 s) would end past the lifetime.
    expect(mailer.tries).toEqual(["ada@example.com", "ada@example.com"]);
    expect(await q.state("s:ada")).toBe("failed");
    expect(mailer.sent).toEqual([]);
  });

  it("paces sends to the configured rate: 5 messages at 10 a second take at least 4 intervals", async () => {
    const q = queue(10);
    const started = Date.now();
    for (let n = 0; n < 5; n++) await q.enqueue({ kind: "verify_email", message: message(`p${n}@example.com`), lifetimeMs: 60_000 });
    await q.idle();
    expect(mailer.sent.map((m) => m.to)).toEqual([0, 1, 2, 3, 4].map((n) => `p${n}@example.com`));
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });
});
