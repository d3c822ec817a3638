import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createClient, ErrorReply, MultiErrorReply, RESP_TYPES } from "redis";

export interface UpstashBridge {
  /** Base URL for `new Redis({ url, token })` from @upstash/redis. */
  url: string;
  token: string;
  stop(): Promise<void>;
}

type Reply = null | number | string | Buffer | ErrorReply | Reply[];
interface Prepared {
  args: string[];
  /** Rewrites the reply (SCRIPT LOAD answers the sha1 of the script the client sent). */
  fix?: (reply: Reply) => Reply;
}

/** Redis is unreachable (stopped by a fault test): answered with HTTP 503. */
class Unavailable extends Error {}

/**
 * Speaks Upstash's REST protocol (POST /, /pipeline, /multi-exec) to a real Redis,
 * so the app's Upstash adapter can be tested without the network.
 */
export async function startUpstashBridge(redisUrl: string): Promise<UpstashBridge> {
  const token = randomBytes(16).toString("hex");
  const client = createClient({
    url: redisUrl,
    RESP: 2, // node-redis 6 defaults to RESP3 (maps, doubles); Upstash answers in RESP2 shapes
    // No offline queue: while Redis is down (fault tests) requests fail fast instead of piling up.
    disableOfflineQueue: true,
    socket: { reconnectStrategy: () => 50 },
  });
  client.on("error", () => {}); // reconnection is automatic; failures surface per request
  const connected = client.connect();
  const timer = setTimeout(() => client.destroy(), 5_000);
  await connected
    .catch((error) => {
      throw new Error(`Upstash bridge cannot reach ${redisUrl}: ${error}`);
    })
    .finally(() => clearTimeout(timer));
  // Bulk strings as Buffers: base64 then encodes the exact bytes.
  const redis = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });

  // sha1 of a script as the client sent it (with its shebang) -> sha1 of what Redis got.
  const shas = new Map<string, string>();
  const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
  const loadable = (script: string) => {
    // Redis 7.0 rejects unknown shebang flags (@upstash/ratelimit sends allow-key-locking).
    // Blank the line rather than delete it so Lua error line numbers still match.
    const stripped = script.replace(/^#![^\n]*/, "");
    if (stripped !== script) shas.set(sha1(script), sha1(stripped));
    return stripped;
  };

  function prepare(command: unknown): Prepared {
    if (!Array.isArray(command) || command.length === 0) throw new ErrorReply("ERR a command must be a non-empty JSON array");
    const args = command.map((arg) => String(arg));
    // Every index read below is within args.length, checked first.
    const name = args[0]!.toUpperCase();
    if ((name === "EVAL" || name === "EVAL_RO") && args.length > 1) {
      args[1] = loadable(args[1]!);
    } else if ((name === "EVALSHA" || name === "EVALSHA_RO") && args.length > 1) {
      args[1] = shas.get(args[1]!.toLowerCase()) ?? args[1]!;
    } else if (name === "SCRIPT" && args[1]?.toUpperCase() === "LOAD" && args.length > 2) {
      const original = args[2]!;
      args[2] = loadable(original);
      return { args, fix: (reply) => (reply instanceof ErrorReply ? reply : sha1(original)) };
    } else if (name === "SCRIPT" && args[1]?.toUpperCase() === "EXISTS") {
      for (let i = 2; i < args.length; i++) args[i] = shas.get(args[i]!.toLowerCase()) ?? args[i]!;
    }
    return { args };
  }

  async function ready() {
    if (client.isReady) return;
    // Give a restarted Redis a moment to be reconnected to before calling it an outage.
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off("ready", done);
        resolve();
      };
      const timer = setTimeout(done, 1_000);
      client.once("ready", done);
    });
    if (!client.isReady) throw new Unavailable("Redis is unavailable");
  }

  async function run(command: unknown): Promise<Reply> {
    const { args, fix } = prepare(command);
    try {
      const reply = (await redis.sendCommand(args)) as Reply;
      return fix ? fix(reply) : reply;
    } catch (error) {
      if (error instanceof ErrorReply) return fix ? fix(error) : error;
      throw new Unavailable(String(error));
    }
  }

  async function multiExec(commands: unknown[]): Promise<Reply[]> {
    const prepared = commands.map(prepare);
    const multi = redis.multi();
    for (const { args } of prepared) multi.addCommand(args);
    let replies: Reply[];
    try {
      replies = (await multi.exec()) as unknown as Reply[];
    } catch (error) {
      if (error instanceof MultiErrorReply) replies = error.replies as Reply[];
      else if (error instanceof ErrorReply)
        throw error; // EXECABORT: a command was rejected while queueing
      else throw new Unavailable(String(error));
    }
    return replies.map((reply, i) => prepared[i]?.fix?.(reply) ?? reply);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const send = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.method !== "POST") return send(405, { error: "ERR only POST is supported" });
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: "Unauthorized" });

    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return send(400, { error: "ERR failed to parse the request body as JSON" });
    }
    const base64 = String(req.headers["upstash-encoding"]).toLowerCase() === "base64";
    const entry = (reply: Reply) => (reply instanceof ErrorReply ? { error: reply.message } : { result: encode(reply, base64, true) });

    try {
      await ready();
      const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "");
      if (path === "") {
        const reply = await run(body);
        return reply instanceof ErrorReply ? send(400, entry(reply)) : send(200, entry(reply));
      }
      if (path !== "/pipeline" && path !== "/multi-exec") return send(404, { error: `ERR unknown endpoint ${path}` });
      if (!Array.isArray(body)) return send(400, { error: "ERR expected a JSON array of commands" });
      // Sent together on one connection: node-redis pipelines them and Redis answers in order.
      const replies = path === "/pipeline" ? await Promise.all(body.map(run)) : await multiExec(body);
      return send(200, replies.map(entry));
    } catch (error) {
      if (error instanceof ErrorReply) return send(400, { error: error.message });
      if (error instanceof Unavailable) return send(503, { error: `ERR upstash bridge: ${error.message}` });
      return send(500, { error: `ERR upstash bridge: ${error}` });
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    async stop() {
      server.closeAllConnections(); // the client's fetch keeps connections alive
      await new Promise((resolve) => server.close(resolve));
      client.destroy();
    },
  };
}

/** Upstash's JSON for a reply: with base64 encoding every string is base64 except a top-level "OK". */
function encode(reply: Reply, base64: boolean, top: boolean): unknown {
  if (reply === null || typeof reply === "number") return reply;
  if (reply instanceof ErrorReply) return reply.message; // an error nested in a script's array reply
  if (Array.isArray(reply)) return reply.map((item) => encode(item, base64, false));
  const bytes = typeof reply === "string" ? Buffer.from(reply) : reply;
  if (!base64) return bytes.toString("utf8");
  // The client decodes every nested string, so only a top-level "OK" may stay literal.
  if (top && bytes.toString("utf8") === "OK") return "OK";
  return bytes.toString("base64");
}
