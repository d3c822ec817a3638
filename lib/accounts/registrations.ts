import "server-only";
import { createHash, randomBytes } from "node:crypto";
import type { AppConfig } from "../platform/config";
import { emailId } from "../codes/limits";
import { verifyPassword } from "../credentials/passwords";
import { seal, unseal } from "../credentials/sealed";
import type { CodeStore } from "../store/code-store";

/**
 * Signups that have not been proven yet. A code mailed to an address proves the inbox, not which of the
 * people who typed that address its reader is; so the name and password of each signup wait here, sealed,
 * and apply only when the code comes with that signup's registration token (an HttpOnly cookie set by the
 * register page, or the `registration` field the JSON API returned). Without it, whoever proves the inbox
 * chooses the name and password themselves. The account row of an unverified address never holds either.
 *
 * The store keeps only a hash of each token. Entries are kept per address, newest last, at most
 * MAX_PENDING of them; a write that races another may drop one, which only means that person is asked to
 * choose their password when they verify. They are not removed when the address is proven: from then on
 * they are inert (only an unverified account is ever activated) and expire with REGISTRATION_LIFETIME_MS.
 */

export interface PendingRegistration {
  /** sha256 of the token, base64url. */
  id: string;
  name: string;
  passwordHash: string;
  at: number;
}

const MAX_PENDING = 3;
export const REGISTRATION_LIFETIME_MS = 24 * 60 * 60 * 1000;

const tokenId = (token: string) => createHash("sha256").update(token).digest("base64url");

/** A token as a person's client holds it: 43 base64url characters. */
export function isRegistrationToken(value: unknown): value is string {
  return typeof value === "string" && /^[A-Za-z0-9_-]{43}$/.test(value);
}

export function createRegistrations({ store, config, now }: { store: CodeStore; config: Pick<AppConfig, "codes">; now: () => number }) {
  const keyOf = (email: string) => `registration:{${emailId(config.codes.hmacKey, email)}}`;

  async function pending(email: string): Promise<PendingRegistration[]> {
    const key = keyOf(email);
    const [sealed] = await store.readValues([key]);
    if (!sealed) return [];
    try {
      const entries = JSON.parse(unseal(config.codes.payloadKey, key, sealed)) as PendingRegistration[];
      return entries.filter((entry) => now() - entry.at < REGISTRATION_LIFETIME_MS);
    } catch {
      return [];
    }
  }

  /** Records a signup's details; the token is what its own client must show to apply them. */
  async function add(email: string, details: { name: string; passwordHash: string }): Promise<string> {
    const token = newRegistrationToken();
    const entries = [...(await pending(email)), { id: tokenId(token), ...details, at: now() }].slice(-MAX_PENDING);
    const key = keyOf(email);
    await store.writeValue(key, seal(config.codes.payloadKey, key, JSON.stringify(entries)), REGISTRATION_LIFETIME_MS);
    return token;
  }

  /** The signup this token belongs to, if it is for this address and still pending. */
  async function find(email: string, token: string | undefined): Promise<PendingRegistration | undefined> {
    if (!isRegistrationToken(token)) return undefined;
    const id = tokenId(token);
    return (await pending(email)).find((entry) => entry.id === id);
  }

  /** Whether a pending signup for this address chose this password (the newest first). */
  async function matchesPassword(email: string, password: string): Promise<boolean> {
    for (const entry of (await pending(email)).reverse()) {
      if (await verifyPassword(entry.passwordHash, password)) return true;
    }
    return false;
  }

  return { add, find, matchesPassword };
}

/** Handed out for every signup answer, also where nothing is stored, so answers look alike. */
export function newRegistrationToken(): string {
  return randomBytes(32).toString("base64url");
}

export type Registrations = ReturnType<typeof createRegistrations>;
