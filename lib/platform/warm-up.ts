import "server-only";
import { after } from "next/server";
import { getConfig } from "./config";

/**
 * A fresh process pays for a signup's first run: the account stack's modules evaluated, the first database and
 * code-store connections, the common-password set, the first Argon2id job and the first email render (about
 * 300 ms, `npm run bench`, cold phase). A person opens /register and types for seconds before posting, so the
 * first page's answer starts that work: the proxy sends one request to the process itself, which does it in the
 * route handlers' own module instances (lib/platform/signup-warm-up.ts, POST /api/warm-up). The proxy cannot do
 * it itself: its bundle has its own copies of the app's modules. Not on Vercel (each function is its own
 * process and the proxy may run apart from them) and not in development (it would compile the route).
 */

export const WARM_UP_PATH = "/api/warm-up";
export const WARM_UP_HEADER = "x-verified-signup-warm-up";

const KEY = Symbol.for("verified-signup.warm-up-key");

/** A random key per process, shared by the proxy and the route handlers through globalThis: only this process can ask. */
export function warmUpKey(): string {
  const holder = globalThis as { [KEY]?: string };
  holder[KEY] ??= crypto.randomUUID();
  return holder[KEY];
}

/** The address this process listens on, as `next start` and server.mjs leave it in the environment. */
function ownOrigin(): string | undefined {
  const port = process.env.PORT;
  if (!port) return undefined;
  const host = process.env.HOST;
  const loopback = !host || host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return `http://${loopback}:${port}`;
}

let scheduled = false;

/** Called by the proxy on every page request; the first schedules the warm-up after its answer. */
export function warmUpAfterFirstAnswer(): void {
  if (scheduled) return;
  scheduled = true;
  const config = getConfig();
  const origin = ownOrigin();
  if (config.onVercel || !config.isProduction || !origin) return;
  after(async () => {
    // A failure costs only the warm-up: the request that needs the part reports it.
    await fetch(`${origin}${WARM_UP_PATH}`, { method: "POST", headers: { [WARM_UP_HEADER]: warmUpKey() }, signal: AbortSignal.timeout(30_000) })
      .then((response) => response.body?.cancel())
      .catch(() => undefined);
  });
}
