import { createServer, type Server } from "node:http";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { freePort } from "./free-port";
import { isFor, pollForMail, type ReceivedMail, type WaitForMailOptions } from "../mailbox";

export type { ReceivedMail, WaitForMailOptions } from "../mailbox";

export interface SmtpSink {
  /** SMTP port on 127.0.0.1 (stays the same across stop/start). */
  port: number;
  /** HTTP query API: GET /messages?to=, DELETE /messages?to= (to optional). */
  httpPort: number;
  /** http://127.0.0.1:<httpPort>, the value for E2E_MAILBOX_URL. */
  mailboxUrl: string;
  /** Live list, oldest first. */
  messages: ReceivedMail[];
  /** When set, every message is refused with this SMTP reply (e.g. { code: 451 } for a temporary failure). */
  failWith: { code: number; message?: string } | null;
  waitForMail(to: string, opts?: WaitForMailOptions): Promise<ReceivedMail>;
  clear(to?: string): void;
  /** Stop accepting SMTP (open connections are dropped); messages and the HTTP API stay. */
  stop(): Promise<void>;
  /** Listen for SMTP again on the same port. */
  start(): Promise<void>;
  /** Stop SMTP and the HTTP API. */
  close(): Promise<void>;
}

/**
 * How a real provider's submission port behaves: "starttls" (587 style: plain greeting, STARTTLS, then AUTH) or
 * "implicit" (465 style: TLS from the first byte), with a certificate the client must trust, and AUTH required
 * (only over TLS) with these credentials.
 */
export interface SmtpSinkTls {
  mode: "starttls" | "implicit";
  key: string;
  cert: string;
  auth: { user: string; password: string };
}

export async function startSmtpSink(port?: number, tls?: SmtpSinkTls): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  let smtp: SMTPServer | undefined;
  const smtpPort = port ?? (await freePort());

  const sink: SmtpSink = {
    port: smtpPort,
    httpPort: 0,
    mailboxUrl: "",
    messages,
    failWith: null,
    waitForMail: (to, opts) => pollForMail(() => messages, to, opts),
    clear(to) {
      const keep = to === undefined ? [] : messages.filter((mail) => !isFor(mail, to));
      messages.splice(0, messages.length, ...keep);
    },
    async stop() {
      if (!smtp) return;
      const current = smtp;
      smtp = undefined;
      await new Promise<void>((resolve) => current.close(() => resolve()));
    },
    async start() {
      if (smtp) return;
      const server = createSmtpServer(sink, tls);
      await new Promise<void>((resolve, reject) => {
        server.server.once("error", reject);
        server.listen(smtpPort, "127.0.0.1", () => {
          server.server.off("error", reject);
          resolve();
        });
      });
      smtp = server;
    },
    async close() {
      await sink.stop();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };

  const http = createMailboxApi(sink);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  sink.httpPort = (http.address() as { port: number }).port;
  sink.mailboxUrl = `http://127.0.0.1:${sink.httpPort}`;
  await sink.start();
  return sink;
}

function createSmtpServer(sink: SmtpSink, tls?: SmtpSinkTls): SMTPServer {
  const security = tls
    ? { secure: tls.mode === "implicit", key: tls.key, cert: tls.cert, authOptional: false, allowInsecureAuth: false }
    : { authOptional: true, allowInsecureAuth: true, disabledCommands: ["STARTTLS"] };
  const server: SMTPServer = new SMTPServer({
    ...security,
    logger: false,
    // On stop(), drop open (pooled) connections at once instead of after smtp-server's 30 s grace.
    closeTimeout: 1,
    onAuth(auth, _session, callback) {
      if (tls && (auth.username !== tls.auth.user || auth.password !== tls.auth.password)) {
        return callback(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
      }
      callback(null, { user: auth.username ?? "any" });
    },
    // Like a mail server that queues before it delivers: 250 as soon as the whole message is in, then the
    // parse (a few ms of this process's CPU) lands it in the mailbox. The sender's wait is the hand-off only.
    onData(stream, session, callback) {
      // Read now: smtp-server starts the next transaction's envelope once this one is answered.
      const to = session.envelope.rcptTo.map((rcpt) => rcpt.address);
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", (error: Error) => callback(error));
      stream.on("end", () => {
        if (sink.failWith) {
          const { code, message = "Refused by the test sink" } = sink.failWith;
          return callback(Object.assign(new Error(message), { responseCode: code }));
        }
        callback();
        deliver(Buffer.concat(chunks), to);
      });
    },
  });

  function deliver(raw: Buffer, to: string[]): void {
    simpleParser(raw).then(
      (parsed) => {
        const headers: Record<string, string> = {};
        for (const { key, line } of parsed.headerLines) {
          const value = line.slice(line.indexOf(":") + 1).trim();
          headers[key] = key in headers ? `${headers[key]}\n${value}` : value;
        }
        sink.messages.push({
          to,
          from: parsed.from?.text ?? "",
          subject: parsed.subject ?? "",
          text: parsed.text ?? "",
          html: typeof parsed.html === "string" ? parsed.html : "",
          receivedAt: Date.now(),
          headers,
        });
      },
      (error: Error) => console.error(`smtp-sink: could not parse a message: ${error.message}`),
    );
  }
  server.on("error", () => {}); // client-side socket errors must not crash the test process
  return server;
}

function createMailboxApi(sink: SmtpSink): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const to = url.searchParams.get("to") ?? undefined;
    if (url.pathname !== "/messages") {
      res.writeHead(404).end();
    } else if (req.method === "GET") {
      const found = to === undefined ? sink.messages : sink.messages.filter((mail) => isFor(mail, to));
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(found));
    } else if (req.method === "DELETE") {
      sink.clear(to);
      res.writeHead(204).end();
    } else {
      res.writeHead(405).end();
    }
  });
}
