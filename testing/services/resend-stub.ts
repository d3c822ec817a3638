import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";

export interface ResendRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (the raw text when it is not JSON). */
  body: unknown;
  /** The status this request was answered with. */
  status: number;
  at: number;
}

export interface ResendStubOptions {
  /** Requests a second per team (Resend's default is 2); above it POST /emails answers 429 with retry-after. 0: unlimited. */
  ratePerSecond?: number;
  /** Sending domains (of `from`) that are not verified: 403 validation_error, as Resend answers. */
  unverifiedDomains?: string[];
  /** Every n-th POST /emails within the rate answers 500 (deterministic "now and then"). 0: never. */
  serverErrorEvery?: number;
}

export interface ResendStub {
  /** Value for RESEND_BASE_URL. */
  baseUrl: string;
  /** Every request received, authorised or not, with the status it got. */
  requests: ResendRequest[];
  /** The messages accepted (200), oldest first. */
  accepted(): Array<{ to: string; from: string; subject: string; text: string; at: number }>;
  /** When set, POST /emails answers with this status and a Resend-style error body. */
  failWith: { status: number; message?: string; name?: string } | null;
  /** The next `count` POST /emails answer `status` (default 500). */
  failNext(count: number, status?: number): void;
  /** Holds every POST /emails unanswered until the returned function is called (a provider that is slow right now). */
  hold(): () => void;
  /** Live settings (see ResendStubOptions). */
  ratePerSecond: number;
  unverifiedDomains: Set<string>;
  serverErrorEvery: number;
  stop(): Promise<void>;
}

const WINDOW_MS = 1_000;

/** Stands in for api.resend.com: POST /emails with a Bearer key answers { id }, and refuses as Resend does. */
export async function startResendStub(options: ResendStubOptions = {}): Promise<ResendStub> {
  let failures: { count: number; status: number } = { count: 0, status: 500 };
  let withinRate = 0;
  let held: Promise<void> | undefined;
  const stub: ResendStub = {
    baseUrl: "",
    requests: [],
    accepted: () =>
      stub.requests
        .filter((r) => r.status === 200 && r.path === "/emails")
        .map((r) => {
          const body = r.body as { to: string | string[]; from: string; subject: string; text: string };
          return { to: Array.isArray(body.to) ? body.to[0]! : body.to, from: body.from, subject: body.subject, text: body.text, at: r.at };
        }),
    failWith: null,
    hold() {
      let release = () => {};
      held = new Promise<void>((resolve) => (release = resolve));
      const current = held;
      return () => {
        if (held === current) held = undefined;
        release();
      };
    },
    failNext(count, status = 500) {
      failures = { count, status };
    },
    ratePerSecond: options.ratePerSecond ?? 0,
    unverifiedDomains: new Set(options.unverifiedDomains ?? []),
    serverErrorEvery: options.serverErrorEvery ?? 0,
    stop: async () => {},
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (held) await held;
    const at = Date.now();
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const request: ResendRequest = { method: req.method ?? "", path, headers: req.headers, body, status: 0, at };
    stub.requests.push(request);

    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      request.status = status;
      res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(json));
    };
    const refuse = (status: number, name: string, message: string, headers?: Record<string, string>) =>
      send(status, { statusCode: status, name, message }, headers);
    if (req.method !== "POST" || path !== "/emails") {
      return refuse(404, "not_found", `The stub only serves POST /emails, not ${req.method} ${path}`);
    }
    if (!/^Bearer \S+$/.test(req.headers.authorization ?? "")) {
      return refuse(401, "missing_api_key", "Missing API key in the authorization header.");
    }
    // Requests it answered count against the rate (the 429s themselves do not), over a sliding second.
    if (stub.ratePerSecond > 0) {
      const recent = stub.requests.filter((r) => r !== request && r.path === "/emails" && r.status !== 429 && r.at > at - WINDOW_MS);
      if (recent.length >= stub.ratePerSecond) {
        return refuse(
          429,
          "rate_limit_exceeded",
          "Too many requests. You can only make 2 requests per second. See rate limit response headers for more information.",
          {
            "retry-after": "1",
            "ratelimit-limit": String(stub.ratePerSecond),
            "ratelimit-remaining": "0",
          },
        );
      }
    }
    if (stub.failWith) {
      const { status, message = "Refused by the test stub.", name = "application_error" } = stub.failWith;
      return refuse(status, name, message);
    }
    if (failures.count > 0) {
      failures.count -= 1;
      return refuse(failures.status, "internal_server_error", "An unexpected error occurred.");
    }
    withinRate += 1;
    if (stub.serverErrorEvery > 0 && withinRate % stub.serverErrorEvery === 0) {
      return refuse(500, "internal_server_error", "An unexpected error occurred.");
    }
    const from = String((body as { from?: unknown })?.from ?? "");
    const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1]?.toLowerCase() ?? "";
    if (stub.unverifiedDomains.has(domain)) {
      return refuse(403, "validation_error", `The ${domain} domain is not verified. Please, add and verify your domain on https://resend.com/domains`);
    }
    send(200, { id: randomUUID() });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");

  stub.baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  stub.stop = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return stub;
}
