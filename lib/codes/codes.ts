import "server-only";
import { createHmac, randomInt } from "node:crypto";

/**
 * What a code proves. Each purpose has its own key, so a code for one never works for another; the
 * limits on sending and guessing are per address across purposes (lib/codes/limits.ts), so switching purpose
 * does not multiply them.
 */
export const CODE_PURPOSES = ["verify_email", "reset_password", "change_email", "sign_in", "enable_totp", "delete_account"] as const;
export type CodePurpose = (typeof CODE_PURPOSES)[number];

/** Six digits from the CSPRNG, leading zeros kept. */
export function generateCode(): string {
  return randomInt(0, 1_000_000).toString().padStart(6, "0");
}

/** The store key for one address's code of one purpose (emailId: lib/codes/limits.ts). */
export function codeKey(emailId: string, purpose: CodePurpose): string {
  return `code:{${emailId}}:${purpose}`;
}

/** What the store keeps instead of the code: HMAC-SHA256 bound to the key, so equal codes never hash alike. */
export function hashCode(hmacKey: Buffer, key: string, code: string): string {
  return createHmac("sha256", hmacKey).update(`${key}:${code}`).digest("hex");
}
