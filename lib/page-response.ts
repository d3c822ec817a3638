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
