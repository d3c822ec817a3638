import { Resend } from "resend";
import { MailDeliveryError, type Mailer, type MailMessage } from "./mailer";

const SEND_TIMEOUT_MS = 10_000;

/** Resend's HTTP API (RESEND_API_KEY). */
export class ResendMailer implements Mailer {
  private readonly resend: Resend;

  constructor(private readonly apiKey: string, private readonly from: string, baseUrl?: string) {
    this.resend = new Resend(apiKey, baseUrl ? { baseUrl } : undefined);
  }

  async send(message: MailMessage): Promise<void> {
    // The SDK reports API failures in `error` rather than throwing.
    const { error } = await this.resend.emails
      .send(
        { from: this.from, to: message.to, subject: message.subject, html: message.html, text: message.text },
        { signal: AbortSignal.timeout(SEND_TIMEOUT_MS) },
      )
      .catch((cause: unknown) => ({ error: cause }));
    if (error) throw new MailDeliveryError(error);
  }

  async verify(): Promise<void> {
    if (!/^re_[A-Za-z0-9_]{8,}$/.test(this.apiKey)) throw new Error("RESEND_API_KEY does not look like a Resend key (re_...)");
  }
}
