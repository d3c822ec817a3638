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
 * no cookie. Anything else is rewritten to the prerendered route and answered by Next (which runs the proxy a
 * second time): Next's client-side navigation, whose RSC headers and parameter the proxy never sees, gets its RSC
 * payload or a redirect there, and none of those answers may be kept by a shared cache, since the proxy cannot tell
 * them apart from a plain request for the page.
 */
export function prerenderedPage(request: NextRequest, prerenderedPath: string, page: BuiltPage, isProduction: boolean): NextResponse {
  const headers = securityHeaders({ scriptHashes: page.scriptHashes, isProduction });
  let response: NextResponse;
  if (request.headers.get("sec-fetch-dest") === "document") {
    const notModified = request.headers.get("if-none-match") === page.etag;
    const body = notModified || request.method === "HEAD" ? null : page.html;
    response = new NextResponse(body, { status: notModified ? 304 : 200, headers: { "Content-Type": "text/html; charset=utf-8", ETag: page.etag } });
    response.headers.set("Cache-Control", PRERENDERED_CACHE_CONTROL);
  } else {
    const requestHeaders = new Headers(request.headers);
    requestHeaders.set("Content-Security-Policy", headers["Content-Security-Policy"]);
    if (request.nextUrl.pathname === prerenderedPath) {
      response = NextResponse.next({ request: { headers: requestHeaders } });
    } else {
      const url = request.nextUrl.clone();
      url.pathname = prerenderedPath;
      response = NextResponse.rewrite(url, { request: { headers: requestHeaders } });
    }
    response.headers.set("Cache-Control", NOT_CACHEABLE);
  }
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  // What the answer depends on, for any cache keyed on this address: the navigation header chooses the document,
  // a session cookie a page rendered for its holder, and Next answers its client-side navigation by the RSC headers.
  response.headers.set("Vary", "sec-fetch-dest, cookie, rsc, next-router-state-tree, next-router-prefetch, next-router-segment-prefetch");
  return response;
}
