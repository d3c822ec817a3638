import "server-only";
/** The mailer port: hand one message to a transport. */
export interface MailMessage {
  to: string;
  subject: string;
  html: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  /** Checks the transport is usable (SMTP login, API key shape) without sending anything. */
  verify(): Promise<void>;
}

/** How a provider refused a message: named for logs and `npm run doctor`, never with the message itself. */
export interface MailRefusal {
  provider: "resend" | "smtp" | "outbox";
  /** HTTP status (Resend) or SMTP reply code; absent when no answer came (network, timeout). */
  status?: number;
  /** The provider's error name (Resend's `rate_limit_exceeded`, nodemailer's `EAUTH`), or "unreachable". */
  name: string;
  /** Worth trying again later (rate limits, 5xx, 4xx SMTP replies, no answer); never for a refusal that cannot succeed. */
  retryable: boolean;
  /** What the provider asked us to wait (Resend's retry-after). */
  retryAfterMs?: number;
  /** The provider's explanation with any address blanked out, for the operator (doctor). */
  detail?: string;
}

export class MailDeliveryError extends Error {
  readonly refusal: MailRefusal;

  constructor(cause: unknown, refusal?: MailRefusal) {
    super("The email could not be sent", { cause });
    this.name = "MailDeliveryError";
    this.refusal = refusal ?? { provider: "smtp", name: cause instanceof Error ? cause.name : "unknown", retryable: true };
  }

  /** "resend 429 rate_limit_exceeded": what the logs say about the refusal. */
  describe(): string {
    const { provider, status, name } = this.refusal;
    return [provider, status, name].filter((part) => part !== undefined && part !== "").join(" ");
  }
}

/** Provider texts may quote the recipient; the operator needs the reason, not the address. */
export function withoutAddresses(text: string): string {
  return text.replace(/[^\s<>"'()]+@[^\s<>"'()]+/g, "<address>").slice(0, 300);
}
