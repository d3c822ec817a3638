import { NextResponse, type NextRequest } from "next/server";
import { getConfig } from "@/lib/platform/config";
import { warmUpAfterFirstAnswer } from "@/lib/platform/warm-up";
import { NEXT_FLIGHT_HEADERS, NOT_CACHEABLE, pageWithNonce, prerenderedPage } from "@/lib/web/page-response";
import { cookiePairs, hasSessionCookie } from "@/lib/sessions/session-cookie";
import { PRERENDERED_PREFIX, prerenderedPage as builtPage, settingsMatch, STATIC_PAGES } from "@/lib/web/static-pages";

/**
 * Runs before every page request: the prerendered auth pages with the hashes of their scripts in the CSP, other
 * pages with a fresh CSP nonce, and Auth.js's session handling, which re-checks the session against the store
 * (lib/sessions/sessions.ts) and re-issues the cookie.
 * The JSON API does not pass here: its headers are static (next.config.mjs), and running a proxy
 * roughly doubles what Next spends on a small API request (measured by `npm run bench`, floor phases).
 */
// With a lazily built config (lib/sessions/auth.ts), Auth.js hands the wrapped handler back in a promise.
type Handler = (request: NextRequest, context: unknown) => Promise<Response>;
let withSession: Promise<Handler> | undefined;

/**
 * Auth.js and what it pulls in (the database, the account rules, the code store) load with the first request that
 * carries a session cookie, not with the first page: a fresh instance answers signed-out pages sooner.
 */
function sessionHandler(): Promise<Handler> {
  withSession ??= import("@/lib/sessions/auth").then(({ auth }) => auth((request) => pageResponse(request)) as unknown as Handler | Promise<Handler>);
  return withSession;
}

function pageResponse(request: NextRequest): NextResponse {
  return pageWithNonce(request, getConfig().isProduction);
}

const staticPaths: ReadonlySet<string> = new Set(STATIC_PAGES);

/**
 * The build's HTML answers only a browser's plain GET from someone signed out: a query carries what the page shows
 * (an address to prefill, a notice), and a signed-in visitor's cookie may need re-issuing, never in a cached answer.
 * Anything else at the address is rendered per request (lib/web/page-response.ts says why).
 */
function prerendered(request: NextRequest, signedIn: boolean): NextResponse | undefined {
  const { pathname, search } = request.nextUrl;
  if (signedIn || search || !staticPaths.has(pathname) || (request.method !== "GET" && request.method !== "HEAD")) return undefined;
  // Next's client-side navigation (next.config.mjs lets the proxy see its headers and its _rsc query).
  if (request.headers.get("sec-fetch-dest") !== "document" || NEXT_FLIGHT_HEADERS.some((name) => request.headers.has(name))) return undefined;
  const page = builtPage(pathname);
  const config = getConfig();
  if (!page || !settingsMatch(page.settings, config)) return undefined;
  return prerenderedPage(request, page, config.isProduction);
}

export async function proxy(request: NextRequest) {
  warmUpAfterFirstAnswer();
  // Read as Auth.js reads the header (names trimmed), not as Next's parser does.
  const signedIn = hasSessionCookie(cookiePairs(request.headers.get("cookie")).map((cookie) => cookie.name));
  const page = prerendered(request, signedIn);
  if (page) return page;
  // The prerendered copies have no address of their own: their HTML is answered above, at the pages' addresses.
  if (request.nextUrl.pathname.startsWith(`${PRERENDERED_PREFIX}/`)) {
    return new NextResponse("Not found", { status: 404, headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": NOT_CACHEABLE } });
  }
  // No session cookie, no session to re-check or re-issue: Auth.js is skipped (about half of what the
  // proxy costs a signup or login page).
  if (!signedIn) return pageResponse(request);
  return (await sessionHandler())(request, {});
}

export const config = {
  matcher: ["/((?!api/|_next/static|_next/image|favicon.ico).*)"],
};
