import { NextResponse, type NextRequest } from "next/server";
import { newNonce, securityHeaders } from "./security-headers.mjs";

/**
 * Passes a page request on with a fresh CSP nonce and the security headers. Next reads the nonce from the
 * request's CSP header and puts it on its own scripts. (Relative imports only: the bench's floor app uses this too.)
 */
export function pageWithNonce(request: NextRequest, isProduction: boolean): NextResponse {
  const nonce = newNonce();
  const headers = securityHeaders({ nonce, isProduction });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("Content-Security-Policy", headers["Content-Security-Policy"]);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

/**
 * A shared cache may keep a prerendered page for an hour and serve it stale for a day while it fetches a new one;
 * a browser asks again each time (a deploy changes the page's script names and hashes).
 */
export const PRERENDERED_CACHE_CONTROL = "public, max-age=0, s-maxage=3600, stale-while-revalidate=86400";

/** The request headers of Next's client-side navigation (the proxy sees them: skipProxyUrlNormalize in next.config.mjs). */
export const NEXT_FLIGHT_HEADERS = ["rsc", "next-router-state-tree", "next-router-prefetch", "next-router-segment-prefetch"] as const;

/** For answers at a prerendered page's address that no cache may keep. */
export const NOT_CACHEABLE = "private, no-store";

/** The build's HTML of a page and what its answer needs. */
export interface BuiltPage {
  html: string;
  /** CSP hash sources of the page's inline scripts. */
  scriptHashes: string[];
  /** A strong validator of the HTML, quoted. */
  etag: string;
}

/**
 * A browser's navigation (Sec-Fetch-Dest: document) gets the build's HTML straight from here, under a CSP that
 * lists the hashes of its inline scripts, and shared caches may keep it: the same bytes for everyone, no nonce and
 * no cookie. The caller sends nothing else here: anything else at the page's address (Next's client-side navigation,
 * a request with a query, or a client that does not say it loads a document) is rendered per request
 * with a nonce, which no cache keeps. A rewrite to the prerendered route would do for those too, but Next proxies
 * such a rewrite over HTTP to its own port when the proxy's URL and its own differ in host or scheme, and fails
 * behind a proxy that says X-Forwarded-Proto: https.
 */
export function prerenderedPage(request: NextRequest, page: BuiltPage, isProduction: boolean): NextResponse {
  const notModified = request.headers.get("if-none-match") === page.etag;
  const body = notModified || request.method === "HEAD" ? null : page.html;
  const response = new NextResponse(body, { status: notModified ? 304 : 200, headers: { "Content-Type": "text/html; charset=utf-8", ETag: page.etag } });
  response.headers.set("Cache-Control", PRERENDERED_CACHE_CONTROL);
  for (const [name, value] of Object.entries(securityHeaders({ scriptHashes: page.scriptHashes, isProduction }))) response.headers.set(name, value);
  // What the answer depends on, for any cache keyed on this address: the navigation header chooses the document,
  // a session cookie a page rendered for its holder, and Next answers its client-side navigation by the RSC headers.
  response.headers.set("Vary", ["sec-fetch-dest", "cookie", ...NEXT_FLIGHT_HEADERS].join(", "));
  return response;
}
