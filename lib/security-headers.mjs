// Plain JavaScript (typed by security-headers.d.mts) so that next.config.mjs can read it too: the JSON API's
// headers are static and set there, without running proxy.ts; pages get theirs, with a nonce, from proxy.ts.
import { randomBytes } from "node:crypto";

/** 128 bits from the CSPRNG, base64: a CSP nonce (a UUID would carry only 122 random bits). */
export function newNonce() {
  return randomBytes(16).toString("base64");
}

/** The headers every response carries: pages (with their nonce) and the JSON API (no scripts at all). */
export function securityHeaders({ nonce, isProduction }) {
  // React needs eval in development only, for its debugging stacks.
  const script = nonce ? `'self' 'nonce-${nonce}' 'strict-dynamic'${isProduction ? "" : " 'unsafe-eval'"}` : "'none'";
  const csp = [
    "default-src 'self'",
    `script-src ${script}`,
    `style-src 'self'${nonce ? ` 'nonce-${nonce}'` : ""}`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(isProduction ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
  return {
    "Content-Security-Policy": csp,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    ...(isProduction ? { "Strict-Transport-Security": "max-age=63072000; includeSubDomains" } : {}),
  };
}
