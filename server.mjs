// Production entry for self-hosting (`npm start`): Next's request handler behind a plain Node server
// that tells the app the real socket address, so per-IP limits cannot be dodged with a forged header.
// On Vercel this file is not used: the platform's own header is trusted instead.
import { createServer } from "node:http";
import next from "next";

const SOCKET_ADDRESS_HEADER = "x-verified-signup-socket-ip";
const port = Number(process.env.PORT ?? 3000);
// HOST, not HOSTNAME: containers set HOSTNAME to the machine name.
const hostname = process.env.HOST ?? "0.0.0.0";
// As `next start` does; the warm-up after the first page (lib/platform/warm-up.ts) reaches the process here.
process.env.PORT = String(port);

const app = next({ dev: false, hostname, port });
const handle = app.getRequestHandler();
await app.prepare();

createServer((request, response) => {
  request.headers[SOCKET_ADDRESS_HEADER] = request.socket.remoteAddress ?? "unknown";
  handle(request, response);
}).listen(port, hostname, () => {
  console.info(`Ready on http://${hostname === "0.0.0.0" ? "localhost" : hostname}:${port}`);
});
