/** 128 bits from the CSPRNG, base64: a CSP nonce. */
export function newNonce(): string;

/**
 * The headers every response carries: pages rendered per request (with their nonce), prerendered pages (with the
 * hashes of their inline scripts) and the JSON API (no scripts at all).
 */
export function securityHeaders(options: {
  nonce?: string;
  scriptHashes?: string[];
  isProduction: boolean;
}): Record<string, string> & { "Content-Security-Policy": string };
