import { performance } from "node:perf_hooks";
import type { ReceivedMail } from "../../testing/mailbox";
import type { SmtpSink } from "../../testing/services/smtp-sink";

/**
 * Hands each message the sink receives to whoever waits for its address, at once (the sink's own
 * waitForMail polls every 50 ms, which would sit inside every flow). Messages are not kept in
 * sink.messages, so memory stays flat over thousands of flows.
 */
export class Inbox {
  private readonly waiters = new Map<string, { resolve: (m: { mail: ReceivedMail; at: number }) => void; timer: NodeJS.Timeout }>();
  private readonly early = new Map<string, { mail: ReceivedMail; at: number }>();

  constructor(sink: SmtpSink) {
    sink.messages.push = (...mails: ReceivedMail[]) => {
      const at = performance.now();
      for (const mail of mails) for (const to of mail.to) this.deliver(to.toLowerCase(), { mail, at });
      return 0;
    };
  }

  private deliver(to: string, item: { mail: ReceivedMail; at: number }) {
    const waiter = this.waiters.get(to);
    if (!waiter) return void this.early.set(to, item);
    this.waiters.delete(to);
    clearTimeout(waiter.timer);
    waiter.resolve(item);
  }

  /** Call before the request that sends the mail. Resolves with the message and performance.now() at its arrival. */
  wait(to: string, timeoutMs = 15_000): Promise<{ mail: ReceivedMail; at: number }> {
    const key = to.toLowerCase();
    const ready = this.early.get(key);
    if (ready) {
      this.early.delete(key);
      return Promise.resolve(ready);
    }
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(new Error(`no mail for ${to} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(key, { resolve: resolvePromise, timer });
    });
  }
}
