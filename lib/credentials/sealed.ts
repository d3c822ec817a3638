import "server-only";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * Secrets at rest (TOTP secrets in the database, pending details in code records): AES-256-GCM with a
 * fresh 96-bit IV. `context` is authenticated data, so a value copied to another user or record does not open.
 */

const TAG_BYTES = 16;
const aad = (context: string) => Buffer.from(`verified-signup/${context}`);

export function seal(key: Buffer, context: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(context));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64url"), ciphertext.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
}

/** Throws when the value was tampered with, belongs to another context, or was sealed with another key. */
export function unseal(key: Buffer, context: string, sealed: string): string {
  const [version, iv, ciphertext, tag] = sealed.split(".");
  if (version !== "v1" || !iv || ciphertext === undefined || !tag) throw new Error("Unknown ciphertext format");
  const authTag = Buffer.from(tag, "base64url");
  // GCM accepts tags as short as 4 bytes unless told otherwise: a truncated tag would be far easier to forge.
  if (authTag.length !== TAG_BYTES) throw new Error("Unknown ciphertext format");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"), { authTagLength: TAG_BYTES });
  decipher.setAAD(aad(context));
  decipher.setAuthTag(authTag);
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
}
