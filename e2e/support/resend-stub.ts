import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";

export interface ResendRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (the raw text when it is not JSON). */
  body: unknown;
}

export interface ResendStub {
  /** Value for RESEND_BASE_URL. */
  baseUrl: string;
  /** Every request received, authorised or not. */
  requests: ResendRequest[];
  /** When set, POST /emails answers with this status and a Resend-style error body. */
  failWith: { status: number; message?: string } | null;
  stop(): Promise<void>;
}

/** Stands in for api.resend.com: POST /emails with a Bearer key answers { id }. */
export async function startResendStub(): Promise<ResendStub> {
  const stub: ResendStub = { baseUrl: "", requests: [], failWith: null, stop: async () => {} };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    stub.requests.push({ method: req.method ?? "", path, headers: req.headers, body });

    const send = (status: number, json: unknown) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    if (req.method !== "POST" || path !== "/emails") {
      return send(404, { statusCode: 404, name: "not_found", message: `The stub only serves POST /emails, not ${req.method} ${path}` });
    }
    if (!/^Bearer \S+$/.test(req.headers.authorization ?? "")) {
      return send(401, { statusCode: 401, name: "missing_api_key", message: "Missing API key in the authorization header." });
    }
    if (stub.failWith) {
      const { status, message = "Refused by the test stub." } = stub.failWith;
      return send(status, { statusCode: status, name: "application_error", message });
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
