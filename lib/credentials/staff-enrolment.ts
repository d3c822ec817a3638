import "server-only";
import { createHmac, randomInt } from "node:crypto";
import type { Database } from "@/db/client";
import { countEnrolmentCodeFailure, findLiveEnrolmentCode, replaceEnrolmentCode, spendEnrolmentCode } from "@/db/staff";
import type { AppConfig } from "../platform/config";
import { withoutSeparators } from "../form-rules";
import { logAuthEvent } from "../platform/log";

/**
 * The one-time enrolment code a staff or admin account needs, besides its password, to set up its
 * authenticator: printed once by `npm run create-admin` for the operator to hand over, stored only as
 * a keyed hash. A password alone (guessed, phished, or chosen by whoever signed up first) is not
 * enough to bind an attacker's phone to a staff account.
 */

/** Long enough for an operator to hand it over by another channel; a fresh one replaces it at any time. */
export const ENROLMENT_CODE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** Wrong tries before the code stops working (then only a new one from create-admin helps). */
export const ENROLMENT_CODE_MAX_FAILURES = 5;
/** No 0/o, 1/l/i: easy to read aloud or copy. 31^10 ≈ 2^49.5. */
const ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

export function newEnrolmentCode(): string {
  const chars = Array.from({ length: 10 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

/** "ABCDE FGHIJ", "abcde-fghij" and "abcdefghij" are the same code. */
export function normaliseEnrolmentCode(input: string): string {
  return withoutSeparators(input).toLowerCase();
}

/** A keyed hash bound to the account (~50 random bits and a few tries: a fast HMAC suffices). */
export function hashEnrolmentCode(key: Buffer, userId: string, code: string): string {
  const hashKey = createHmac("sha256", key).update("verified-signup/staff-enrolment-code/v1").digest();
  return createHmac("sha256", hashKey)
    .update(`${userId}:${normaliseEnrolmentCode(code)}`)
    .digest("hex");
}

export type EnrolmentCodeCheck =
  | { ok: true }
  /** wrong_code: tries are left; used_up: this was the last wrong try; none: no live code (never issued, used, expired or used up). */
  | { ok: false; reason: "wrong_code" | "used_up" | "none" };

export function createEnrolmentCodes(deps: { db: Database; config: Pick<AppConfig, "totp">; now?: () => number }) {
  const { db } = deps;
  const key = deps.config.totp.encryptionKey;
  const now = deps.now ?? Date.now;

  /** A new code for the account, replacing any earlier one. The caller shows it once and keeps no copy. */
  async function issue(userId: string): Promise<{ code: string; expiresAt: Date }> {
    const code = newEnrolmentCode();
    const at = new Date(now());
    const expiresAt = new Date(at.getTime() + ENROLMENT_CODE_TTL_MS);
    await replaceEnrolmentCode(db, userId, hashEnrolmentCode(key, userId, code), expiresAt, at);
    logAuthEvent("enrolment_code_issued", { userId });
    return { code, expiresAt };
  }

  async function isOutstanding(userId: string): Promise<boolean> {
    return Boolean(await findLiveEnrolmentCode(db, userId, new Date(now()), ENROLMENT_CODE_MAX_FAILURES));
  }

  /** Spends the code when it is the right one (once: a second use finds none); a wrong one counts a failure. */
  async function spend(userId: string, input: string): Promise<EnrolmentCodeCheck> {
    const at = new Date(now());
    if (await spendEnrolmentCode(db, userId, hashEnrolmentCode(key, userId, input), at, ENROLMENT_CODE_MAX_FAILURES)) return { ok: true };
    if (!(await findLiveEnrolmentCode(db, userId, at, ENROLMENT_CODE_MAX_FAILURES))) {
      logAuthEvent("totp_enrolment_failed", { userId, reason: "no_enrolment_code" });
      return { ok: false, reason: "none" };
    }
    const failures = await countEnrolmentCodeFailure(db, userId);
    logAuthEvent("totp_enrolment_failed", { userId, reason: "wrong_enrolment_code" });
    return { ok: false, reason: (failures ?? ENROLMENT_CODE_MAX_FAILURES) >= ENROLMENT_CODE_MAX_FAILURES ? "used_up" : "wrong_code" };
  }

  return { issue, isOutstanding, spend };
}

export type EnrolmentCodes = ReturnType<typeof createEnrolmentCodes>;
