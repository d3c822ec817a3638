import { createHmac, randomInt } from "node:crypto";

/** What a code proves. Each purpose has its own key, so a code for one never works for another. */
export type CodePurpose = "verify_email";

/** Six digits from the CSPRNG, leading zeros kept. */
export function generateCode(): string {
  return randomInt(0, 1_000_000).toString().padStart(6, "0");
}

/** The store key for one address's code of one purpose (emailId: lib/limits.ts). */
export function codeKey(emailId: string, purpose: CodePurpose): string {
  return `code:{${emailId}}:${purpose}`;
}

/** What the store keeps instead of the code: HMAC-SHA256 bound to the key, so equal codes never hash alike. */
export function hashCode(hmacKey: Buffer, key: string, code: string): string {
  return createHmac("sha256", hmacKey).update(`${key}:${code}`).digest("hex");
}
