import { afterEach, beforeEach, vi } from "vitest";
import type { openDatabase } from "@/db/client";
import { extractCode } from "@/testing/mailbox";
import { MailDeliveryError, type Mailer, type MailMessage } from "@/lib/mail/mailer";
import { openFreshTestDatabase } from "./test-database";

/**
 * What the service-level tests (accounts, abuse, purposes) share: a capturing mailer, a real libSQL database
 * per test (a file, or a database on sqld in the "sqld" Vitest project: testing/test-database.ts), the mail hand-off after the answer (Next's after()), and a fake clock on Date only
 * (real timers keep running for libSQL and argon2; the in-process store reads Date.now() for its limits).
 */

export class CapturingMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  failing = false;
  /** A transport's round trip (an SMTP or Resend call takes tens to hundreds of ms); 0 by default. */
  latencyMs = 0;

  async send(message: MailMessage): Promise<void> {
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (this.failing) throw new MailDeliveryError(new Error("SMTP said no (test)"));
    this.sent.push(message);
  }

  async verify(): Promise<void> {}

  to(email: string): MailMessage[] {
    return this.sent.filter((m) => m.to === email);
  }

  last(email: string): MailMessage {
    const messages = this.to(email);
    if (messages.length === 0) throw new Error(`No mail to ${email}`);
    return messages.at(-1)!;
  }

  /** The code in the latest message to `email`. */
  lastCode(email: string): string {
    return extractCode({ text: this.last(email).text });
  }
}

type DatabaseHandle = ReturnType<typeof openDatabase>;

export interface ServiceHarness {
  /** A fresh migrated database (see testing/test-database.ts); closed after the test. */
  freshDatabase(): Promise<DatabaseHandle>;
  /** As the app's after(): runs `task` once the current answer is out. */
  defer(task: () => Promise<unknown>): void;
  /** Waits for the tasks handed off after the answers so far. */
  settle(): Promise<void>;
}

/**
 * Registers the hooks (call at the top of a test file): before each test console.info is silenced (one JSON
 * line per event); after it the test's database is closed, real timers are back and mocks are restored.
 * `label` names the file's harness in failures only (the databases' temp files are test-database.ts's).
 */
export function serviceHarness(_label: string): ServiceHarness {
  let open: DatabaseHandle | undefined;
  const afterResponse: Array<Promise<unknown>> = [];

  beforeEach(() => {
    vi.spyOn(console, "info").mockImplementation(() => {});
  });

  afterEach(() => {
    open?.client.close();
    open = undefined;
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  return {
    async freshDatabase() {
      const handle = await openFreshTestDatabase();
      open = handle;
      return handle;
    },
    defer(task) {
      afterResponse.push(new Promise((r) => setImmediate(r)).then(task));
    },
    async settle() {
      await Promise.all(afterResponse.splice(0));
    },
  };
}

/** The fake clock's start: 15 January 2030, 12:00 UTC. */
export const CLOCK_START = Date.UTC(2030, 0, 15, 12, 0, 0);

/** Fakes Date only and sets it to `at`. */
export function startFakeClock(at = CLOCK_START): void {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(at);
}

/** Moves the fake clock forward. */
export const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);
