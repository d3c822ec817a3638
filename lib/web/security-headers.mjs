// Plain JavaScript (typed by security-headers.d.mts) so that next.config.mjs can read it too: the JSON API's
// headers are static and set there, without running proxy.ts; pages get theirs, with a nonce, from proxy.ts.
import { randomBytes } from "node:crypto";

/** 128 bits from the CSPRNG, base64: a CSP nonce (a UUID would carry only 122 random bits). */
export function newNonce() {
  return randomBytes(16).toString("base64");
}

/**
 * The headers every response carries: pages rendered per request (with their nonce), prerendered pages (with the
 * hashes of their inline scripts: the HTML is the same for everyone, so no nonce can be in it) and the JSON API
 * (no scripts at all).
 */
export function securityHeaders({ nonce, scriptHashes, isProduction }) {
  // React needs eval in development only, for its debugging stacks.
  const dev = isProduction ? "" : " 'unsafe-eval'";
  // Without 'strict-dynamic' for hashes: 'self' then admits Next's own chunks, which the HTML and its runtime load.
  const script = nonce
    ? `'self' 'nonce-${nonce}' 'strict-dynamic'${dev}`
    : scriptHashes
      ? `'self'${scriptHashes.map((hash) => ` ${hash}`).join("")}${dev}`
      : "'none'";
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
