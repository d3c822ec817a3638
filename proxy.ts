import { NextResponse, type NextRequest } from "next/server";
import { auth } from "@/lib/auth";
import { getConfig } from "@/lib/config";
import { newNonce, securityHeaders } from "@/lib/security-headers";

/**
 * Runs before every request: security headers everywhere (a fresh CSP nonce for each page), and for
 * pages, Auth.js's session handling, which re-checks the session against the store (lib/sessions.ts)
 * and re-issues the cookie.
 */
// With a lazily built config (lib/auth.ts), Auth.js hands the wrapped handler back in a promise.
type Handler = (request: NextRequest, context: unknown) => Promise<Response>;
const withSession = Promise.resolve(auth((request) => pageResponse(request)) as unknown as Handler | Promise<Handler>);

function pageResponse(request: NextRequest): NextResponse {
  const isProduction = getConfig().isProduction;
  const nonce = newNonce();
  const headers = securityHeaders({ nonce, isProduction });
  // Next reads the nonce from the request's CSP header and puts it on its own scripts.
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("Content-Security-Policy", headers["Content-Security-Policy"]);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

export async function proxy(request: NextRequest) {
  if (request.nextUrl.pathname.startsWith("/api/")) {
    const response = NextResponse.next();
    for (const [name, value] of Object.entries(securityHeaders({ isProduction: getConfig().isProduction }))) {
      response.headers.set(name, value);
    }
    return response;
  }
  return (await withSession)(request, {});
}

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
