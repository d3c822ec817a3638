import "server-only";
import { Resend } from "resend";
import { MailDeliveryError, withoutAddresses, type Mailer, type MailMessage, type MailRefusal } from "./mailer";

const SEND_TIMEOUT_MS = 10_000;

/** Resend's HTTP API (RESEND_API_KEY). */
export class ResendMailer implements Mailer {
  private readonly resend: Resend;

  constructor(
    private readonly apiKey: string,
    private readonly from: string,
    baseUrl?: string,
  ) {
    this.resend = new Resend(apiKey, baseUrl ? { baseUrl } : undefined);
  }

  async send(message: MailMessage): Promise<void> {
    // The SDK reports API failures in `error` (a plain object, not an Error) rather than throwing.
    const reply = await this.resend.emails
      .send(
        { from: this.from, to: message.to, subject: message.subject, html: message.html, text: message.text },
        { signal: AbortSignal.timeout(SEND_TIMEOUT_MS) },
      )
      .catch((cause: unknown) => ({ error: cause, headers: null }));
    if (reply.error) throw new MailDeliveryError(reply.error, resendRefusal(reply.error, reply.headers));
  }

  async verify(): Promise<void> {
    if (!/^re_[A-Za-z0-9_]{8,}$/.test(this.apiKey)) throw new Error("RESEND_API_KEY does not look like a Resend key (re_...)");
  }
}

/** Resend answers `{ statusCode, name, message }`; statusCode null means no answer came. */
export function resendRefusal(error: unknown, headers: Record<string, string> | null | undefined): MailRefusal {
  const fields = (typeof error === "object" && error !== null ? error : {}) as { statusCode?: unknown; name?: unknown; message?: unknown };
  const status = typeof fields.statusCode === "number" ? fields.statusCode : undefined;
  const aborted = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
  const name = status === undefined ? (aborted ? "timeout" : "unreachable") : typeof fields.name === "string" ? fields.name : "error";
  const retryAfterSeconds = Number(headers?.["retry-after"]);
  return {
    provider: "resend",
    status,
    name,
    // 429 and 5xx pass; a 4xx (403 domain not verified, 422 invalid, 401 key) would be refused again.
    retryable: status === undefined || status === 429 || status >= 500,
    retryAfterMs: Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0 ? retryAfterSeconds * 1000 : undefined,
    detail: typeof fields.message === "string" ? withoutAddresses(fields.message) : undefined,
  };
}
