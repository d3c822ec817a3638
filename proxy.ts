import type { NextRequest, NextResponse } from "next/server";
import { auth } from "@/lib/auth";
import { getConfig } from "@/lib/config";
import { pageWithNonce } from "@/lib/page-response";
import { hasSessionCookie } from "@/lib/session-cookie";

/**
 * Runs before every page request: security headers with a fresh CSP nonce, and Auth.js's session
 * handling, which re-checks the session against the store (lib/sessions.ts) and re-issues the cookie.
 * The JSON API does not pass here: its headers are static (next.config.mjs), and running a proxy
 * roughly doubles what Next spends on a small API request (measured by `npm run bench`, floor phases).
 */
// With a lazily built config (lib/auth.ts), Auth.js hands the wrapped handler back in a promise.
type Handler = (request: NextRequest, context: unknown) => Promise<Response>;
const withSession = Promise.resolve(auth((request) => pageResponse(request)) as unknown as Handler | Promise<Handler>);

function pageResponse(request: NextRequest): NextResponse {
  return pageWithNonce(request, getConfig().isProduction);
}

export async function proxy(request: NextRequest) {
  // No session cookie, no session to re-check or re-issue: Auth.js is skipped (about half of what the
  // proxy costs a signup or login page).
  if (!hasSessionCookie(request.cookies.getAll().map((cookie) => cookie.name))) return pageResponse(request);
  return (await withSession)(request, {});
}

export const config = {
  matcher: ["/((?!api/|_next/static|_next/image|favicon.ico).*)"],
};
