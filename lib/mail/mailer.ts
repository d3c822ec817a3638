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

export class MailDeliveryError extends Error {
  constructor(cause: unknown) {
    super("The email could not be sent", { cause });
    this.name = "MailDeliveryError";
  }
}
