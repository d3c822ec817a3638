import nodemailer, { type Transporter } from "nodemailer";
import type { MailConfig } from "@/lib/config";
import { MailDeliveryError, type Mailer, type MailMessage } from "./mailer";

type SmtpConfig = Extract<MailConfig, { kind: "smtp" }>;

/** Any SMTP server (Gmail with an app password, SES, Postmark, a local sink) through nodemailer. */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(config: SmtpConfig, private readonly from: string) {
    // A pooled transport reuses connections: no TCP + TLS handshake inside every registration.
    const common = { pool: true, maxConnections: 4, connectionTimeout: 5_000, greetingTimeout: 5_000, socketTimeout: 15_000 };
    this.transport = config.url
      ? nodemailer.createTransport({ url: config.url, ...common, secure: config.secure || config.url.startsWith("smtps:"), ignoreTLS: isLoopback(config.url) } as never)
      : nodemailer.createTransport({
          ...common,
          host: config.host,
          port: config.port ?? (config.secure ? 465 : 587),
          secure: config.secure,
          auth: config.user ? { user: config.user, pass: config.password } : undefined,
        });
  }

  async send(message: MailMessage): Promise<void> {
    try {
      await this.transport.sendMail({ from: this.from, ...message });
    } catch (error) {
      throw new MailDeliveryError(error);
    }
  }

  async verify(): Promise<void> {
    await this.transport.verify();
  }
}

function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
  } catch {
    return false;
  }
}
