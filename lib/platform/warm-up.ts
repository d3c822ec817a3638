import "server-only";
import { after } from "next/server";
import { getConfig, type AppConfig } from "./config";

/**
 * The packages a signup needs and no page does, loaded once per process right after the first page's answer
 * (warmUpAfterFirstAnswer, called by proxy.ts): a person opens /register and types for seconds before posting, so the post finds
 * them loaded instead of paying about 150 ms to load them (measured by `npm run bench`, cold phase). They are
 * all serverExternalPackages (next.config.mjs), so they land in Node's module cache, which the route handlers
 * share with the proxy. Not on Vercel, where the proxy may run in a function of its own.
 */
function signupPackages(config: AppConfig): Array<() => Promise<unknown>> {
  if (config.onVercel) return [];
  const packages: Array<() => Promise<unknown>> = [() => import("@node-rs/argon2"), () => import("@react-email/render")];
  if (config.codeStore.kind === "redis") packages.push(() => import("@redis/client"));
  if (config.codeStore.kind === "upstash") packages.push(() => import("@upstash/redis"));
  if (config.mail.kind === "smtp") packages.push(() => import("nodemailer"));
  return packages;
}

let scheduled = false;

/**
 * Called by the proxy on every page request; the first schedules the loading after its answer. The packages load
 * one at a time, yielding between them to requests that arrive meanwhile.
 */
export function warmUpAfterFirstAnswer(): void {
  if (scheduled) return;
  scheduled = true;
  after(async () => {
    for (const load of signupPackages(getConfig())) {
      await new Promise((resolve) => setImmediate(resolve));
      await load().catch(() => undefined); // the request that needs it reports the failure
    }
  });
}
