import "server-only";
import type { Mailer, MailMessage } from "./mailer";

export interface OutboxEntry extends MailMessage {
  sentAt: Date;
}

const LIMIT = 50;
const holder = globalThis as { __devOutbox?: OutboxEntry[] };

/** Development only: keeps messages in memory (readable at /dev/outbox) and prints them to the console. */
export class DevOutboxMailer implements Mailer {
  async send(message: MailMessage): Promise<void> {
    const outbox = (holder.__devOutbox ??= []);
    outbox.unshift({ ...message, sentAt: new Date() });
    outbox.length = Math.min(outbox.length, LIMIT);
    console.info(`\n[dev outbox] To: ${message.to}\nSubject: ${message.subject}\n\n${message.text}\n`);
  }

  async verify(): Promise<void> {}
}

export function readDevOutbox(): readonly OutboxEntry[] {
  return holder.__devOutbox ?? [];
}
