/** 128 bits from the CSPRNG, base64: a CSP nonce. */
export function newNonce(): string;

/** The headers every response carries: pages (with their nonce) and the JSON API (no scripts at all). */
export function securityHeaders(options: { nonce?: string; isProduction: boolean }): Record<string, string>;
