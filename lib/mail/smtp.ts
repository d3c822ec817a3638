import "server-only";
import nodemailer, { type Transporter } from "nodemailer";
import { isLoopbackHost, type MailConfig } from "@/lib/platform/config";
import { MailDeliveryError, withoutAddresses, type Mailer, type MailMessage, type MailRefusal } from "./mailer";

type SmtpConfig = Extract<MailConfig, { kind: "smtp" }>;

/** Any SMTP server (Gmail with an app password, SES, Postmark, a local sink) through nodemailer. */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(
    config: SmtpConfig,
    private readonly from: string,
  ) {
    // A pooled transport reuses connections: no TCP + TLS handshake inside every registration.
    const common = { pool: true, maxConnections: 4, connectionTimeout: 5_000, greetingTimeout: 5_000, socketTimeout: 15_000 };
    const host = config.url ? hostOf(config.url) : (config.host ?? "");
    // STARTTLS made mandatory: a server (or a network) that does not offer it gets neither the message nor the password.
    const requireTLS = config.requireTls && !isLoopbackHost(host);
    this.transport = config.url
      ? nodemailer.createTransport({
          url: config.url,
          ...common,
          secure: config.secure || config.url.startsWith("smtps:"),
          ignoreTLS: isLoopbackHost(host),
          requireTLS,
        } as never)
      : nodemailer.createTransport({
          ...common,
          host: config.host,
          port: config.port ?? (config.secure ? 465 : 587),
          secure: config.secure,
          requireTLS: config.secure ? false : requireTLS,
          auth: config.user ? { user: config.user, pass: config.password } : undefined,
        });
  }

  async send(message: MailMessage): Promise<void> {
    try {
      await this.transport.sendMail({ from: this.from, ...message });
    } catch (error) {
      throw new MailDeliveryError(error, smtpRefusal(error));
    }
  }

  async verify(): Promise<void> {
    await this.transport.verify();
  }
}

/** nodemailer's errors carry the server's reply code (responseCode) and its own code (EAUTH, ECONNECTION, ...). */
export function smtpRefusal(error: unknown): MailRefusal {
  const fields = (typeof error === "object" && error !== null ? error : {}) as { responseCode?: unknown; code?: unknown; response?: unknown };
  const status = typeof fields.responseCode === "number" ? fields.responseCode : undefined;
  const name = typeof fields.code === "string" ? fields.code : error instanceof Error ? error.name : "unknown";
  return {
    provider: "smtp",
    status,
    name,
    // 4xx replies are temporary by definition; 5xx replies and a refused login are not.
    retryable: status !== undefined ? status < 500 : name !== "EAUTH",
    detail: typeof fields.response === "string" ? withoutAddresses(fields.response) : error instanceof Error ? withoutAddresses(error.message) : undefined,
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}
