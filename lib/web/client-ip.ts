import "server-only";
/**
 * The client's IP address for per-IP limits. A forwarded header is believed only when the deployment says
 * a proxy in front sets it (Vercel, or TRUST_PROXY=true); otherwise the socket address, which server.mjs
 * passes in a header of its own after dropping any copy the client sent.
 */
export const SOCKET_ADDRESS_HEADER = "x-verified-signup-socket-ip";

export function clientIp(headers: Headers, options: { trustProxy: boolean; onVercel?: boolean }): string {
  if (options.trustProxy) {
    if (options.onVercel) {
      const real = headers.get("x-real-ip");
      if (real) return real.trim();
    }
    // The entry our own proxy appended is the last one; earlier entries are whatever the client claimed.
    const last = headers
      .get("x-forwarded-for")
      ?.split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .at(-1);
    if (last) return last;
  }
  const socket = headers.get(SOCKET_ADDRESS_HEADER)?.trim();
  if (socket) return socket;
  // Bare `next start`: Next fills X-Forwarded-For from the socket only when the client sent none, so a
  // client could claim any address here. Run server.mjs (npm start) or set TRUST_PROXY behind a proxy.
  warnOnce();
  return headers.get("x-forwarded-for")?.split(",").pop()?.trim() || "unknown";
}

let warned = false;
function warnOnce() {
  if (warned) return;
  warned = true;
  console.warn(JSON.stringify({ event: "client_ip_unverified", hint: "start with `npm start` (server.mjs) or set TRUST_PROXY=true behind a proxy" }));
}
