import "server-only";
import { createHmac, randomInt } from "node:crypto";
import { Secret, TOTP } from "otpauth";
import type { Database } from "@/db/client";
import type { Role } from "@/db/schema";
import {
  claimTotpStep,
  confirmTotp,
  countUnusedRecoveryCodes,
  deletePendingTotp,
  deleteSecondFactor,
  findTotpCredential,
  hasConfirmedTotp,
  insertPendingTotp,
  spendRecoveryCode,
} from "@/db/second-factor";
import type { AppConfig } from "../platform/config";
import { logAuthEvent } from "../platform/log";
import { withoutSeparators } from "../form-rules";
import { seal, unseal } from "./sealed";
import { createEnrolmentCodes, type EnrolmentCodeCheck } from "./staff-enrolment";

/**
 * The second factor for staff and admin accounts: TOTP (RFC 6238) from an authenticator app, plus ten
 * one-time recovery codes. The secret is stored encrypted (AES-256-GCM, bound to the user id), recovery
 * codes as keyed hashes; a time-step once accepted is never accepted again (no replay within the window).
 */

/** The parameters every authenticator app understands (Google Authenticator ignores anything else). */
const TOTP_PARAMETERS = { algorithm: "SHA1", digits: 6, period: 30 } as const;
/** One step either side of now: a phone clock a little off, or a code typed just as it changed. */
const TOTP_WINDOW = 1;
export const RECOVERY_CODE_COUNT = 10;
/** No 0/o, 1/l/i: easy to copy from paper. 31^10 ≈ 2^49.5 per code. */
const RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

type TotpConfig = Pick<AppConfig, "totp">;

/** Which accounts must have a second factor before /admin opens. */
export function needsSecondFactor(role: Role): boolean {
  return role === "staff" || role === "admin";
}

// ---- Encryption at rest -------------------------------------------------------------------------------

/** The user id is authenticated data (lib/credentials/sealed.ts), so a row copied to another user does not decrypt. */
export function encryptForUser(key: Buffer, userId: string, plaintext: string, purpose = "totp-secret"): string {
  return seal(key, `${purpose}/${userId}`, plaintext);
}

/** Throws when the value was tampered with, belongs to another user, or was sealed with another key. */
export function decryptForUser(key: Buffer, userId: string, sealed: string, purpose = "totp-secret"): string {
  return unseal(key, `${purpose}/${userId}`, sealed);
}

// ---- TOTP ----------------------------------------------------------------------------------------------

/** 160 random bits, base32 (RFC 4226 recommends the HMAC-SHA1 output length). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totpOf(secretBase32: string, label = "", issuer = ""): TOTP {
  return new TOTP({ ...TOTP_PARAMETERS, issuer, label, secret: Secret.fromBase32(secretBase32) });
}

/** The otpauth:// URI an authenticator app reads from the QR code. */
export function otpauthUri(secretBase32: string, options: { issuer: string; account: string }): string {
  return totpOf(secretBase32, options.account, options.issuer).toString();
}

/** The QR code as SVG markup, drawn on the server (no script, no request to anyone else); loaded with the first enrolment. */
export async function qrCodeSvg(text: string): Promise<string> {
  const { default: QRCode } = await import("qrcode");
  return QRCode.toString(text, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
}

/** The RFC 6238 time-step whose code `code` is, within the window around `now`; null when none matches. */
export function matchingTimeStep(secretBase32: string, code: string, now: number): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpOf(secretBase32).validate({ token: code, timestamp: now, window: TOTP_WINDOW });
  if (delta === null) return null;
  return TOTP.counter({ period: TOTP_PARAMETERS.period, timestamp: now }) + delta;
}

/** The code an authenticator shows at `now` (tests and the command line). */
export function totpCodeAt(secretBase32: string, now: number): string {
  return totpOf(secretBase32).generate({ timestamp: now });
}

// ---- Recovery codes ---------------------------------------------------------------------------------------

export function newRecoveryCodes(n = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: n }, () => {
    const chars = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join("");
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** People type "ABCDE FGHIJ" or "abcde-fghij": both are the same code. */
export function normaliseSecondFactorInput(input: string): string {
  return withoutSeparators(input).toLowerCase();
}

/**
 * A keyed hash (the codes carry ~50 random bits, so a fast HMAC suffices; the key keeps a copied table
 * useless without the server's key), bound to the user.
 */
export function hashRecoveryCode(key: Buffer, userId: string, code: string): string {
  const hashKey = createHmac("sha256", key).update("verified-signup/recovery-code-hash/v1").digest();
  return createHmac("sha256", hashKey)
    .update(`${userId}:${normaliseSecondFactorInput(code)}`)
    .digest("hex");
}

// ---- The service -----------------------------------------------------------------------------------------

export interface PendingEnrolment {
  /** Base32, shown as text for people who cannot scan. */
  secret: string;
  uri: string;
  recoveryCodes: string[];
}

export type EnrolmentRefusal = "wrong_code" | "not_pending" | `enrolment_code_${Extract<EnrolmentCodeCheck, { ok: false }>["reason"]}`;

export type SecondFactorCheck = { ok: true; method: "totp" | "recovery_code" } | { ok: false; reason: "wrong_code" | "not_enrolled" };

export interface SecondFactorStatus {
  enabled: boolean;
  pending: boolean;
  recoveryCodesLeft: number;
}

export function createSecondFactor(deps: { db: Database; config: TotpConfig; now?: () => number }) {
  const { db } = deps;
  const { encryptionKey: key, issuer } = deps.config.totp;
  const now = deps.now ?? Date.now;
  const enrolmentCodes = createEnrolmentCodes({ db, config: deps.config, now });

  const credentialOf = (userId: string) => findTotpCredential(db, userId);

  async function isEnabled(userId: string): Promise<boolean> {
    return hasConfirmedTotp(db, userId);
  }

  async function status(userId: string): Promise<SecondFactorStatus> {
    const credential = await credentialOf(userId);
    const left = await countUnusedRecoveryCodes(db, userId);
    return {
      enabled: Boolean(credential?.confirmedAt),
      pending: Boolean(credential && !credential.confirmedAt),
      recoveryCodesLeft: credential?.confirmedAt ? (left ?? 0) : 0,
    };
  }

  /**
   * The enrolment in progress for this account, started if there is none: the same secret and codes on
   * every visit until confirmed (a reload, or a page rendered without JavaScript, shows the same QR code).
   * Undefined when a second factor is already on.
   */
  async function pendingEnrolment(user: { id: string; email: string }): Promise<PendingEnrolment | undefined> {
    let credential = await credentialOf(user.id);
    if (!credential) {
      const secret = newTotpSecret();
      await insertPendingTotp(db, {
        userId: user.id,
        secretCiphertext: encryptForUser(key, user.id, secret),
        pendingRecoveryCodes: encryptForUser(key, user.id, JSON.stringify(newRecoveryCodes()), "pending-recovery-codes"),
        createdAt: new Date(now()),
      });
      // Two tabs racing: whichever row won is the one both show.
      credential = await credentialOf(user.id);
    }
    if (!credential || credential.confirmedAt || !credential.pendingRecoveryCodes) return undefined;
    const secret = decryptForUser(key, user.id, credential.secretCiphertext);
    const codes = JSON.parse(decryptForUser(key, user.id, credential.pendingRecoveryCodes, "pending-recovery-codes")) as string[];
    return { secret, uri: otpauthUri(secret, { issuer, account: user.email }), recoveryCodes: codes };
  }

  /** Throws the pending secret away (a new QR code on the next visit); an enabled factor is not touched. */
  async function restartEnrolment(userId: string): Promise<void> {
    await deletePendingTotp(db, userId);
  }

  /**
   * Turns the second factor on once the person proves their app shows the right code and gives the
   * enrolment code an operator handed them (spent here, once). The recovery codes shown during
   * enrolment become hashes; the code's time-step counts as used.
   */
  async function confirmEnrolment(userId: string, code: string, enrolmentCode: string): Promise<{ ok: true } | { ok: false; reason: EnrolmentRefusal }> {
    return confirmEnrolmentProven(userId, code, async (): Promise<{ ok: true } | { ok: false; reason: EnrolmentRefusal }> => {
      const spent = await enrolmentCodes.spend(userId, enrolmentCode);
      return spent.ok ? { ok: true } : { ok: false, reason: `enrolment_code_${spent.reason}` };
    });
  }

  /**
   * The same with another proof of the account (a customer's: a code mailed after a password check),
   * asked for only once the app's code is right.
   */
  async function confirmEnrolmentProven<R extends string>(
    userId: string,
    code: string,
    proveAccount: () => Promise<{ ok: true } | { ok: false; reason: R }>,
  ): Promise<{ ok: true } | { ok: false; reason: "wrong_code" | "not_pending" | R }> {
    const credential = await credentialOf(userId);
    if (!credential || credential.confirmedAt || !credential.pendingRecoveryCodes) return { ok: false, reason: "not_pending" };
    const secret = decryptForUser(key, userId, credential.secretCiphertext);
    const step = matchingTimeStep(secret, normaliseSecondFactorInput(code), now());
    if (step === null) {
      logAuthEvent("totp_enrolment_failed", { userId, reason: "wrong_code" });
      return { ok: false, reason: "wrong_code" };
    }
    // Checked after the app's code, so a mistyped app code does not use up the enrolment code's tries.
    const proven = await proveAccount();
    if (!proven.ok) return proven;
    const codes = JSON.parse(decryptForUser(key, userId, credential.pendingRecoveryCodes, "pending-recovery-codes")) as string[];
    const at = new Date(now());
    await confirmTotp(db, userId, { codeHashes: codes.map((c) => hashRecoveryCode(key, userId, c)), step, at });
    logAuthEvent("totp_enrolled", { userId });
    return { ok: true };
  }

  /**
   * Checks a code at login: a 6-digit TOTP (each time-step accepted once, atomically) or an unused
   * recovery code (spent atomically). Never logs the code.
   */
  async function verify(userId: string, input: string): Promise<SecondFactorCheck> {
    const code = normaliseSecondFactorInput(input);
    if (/^\d{6}$/.test(code)) {
      const credential = await credentialOf(userId);
      if (!credential?.confirmedAt) return { ok: false, reason: "not_enrolled" };
      let secret: string;
      try {
        secret = decryptForUser(key, userId, credential.secretCiphertext);
      } catch {
        // Another key (TOTP_ENCRYPTION_KEY or AUTH_SECRET changed): no code can match; recovery codes still work.
        logAuthEvent("totp_unreadable", { userId });
        return { ok: false, reason: "wrong_code" };
      }
      const step = matchingTimeStep(secret, code, now());
      if (step === null) return { ok: false, reason: "wrong_code" };
      if (!(await claimTotpStep(db, userId, step))) {
        logAuthEvent("totp_replay_refused", { userId });
        return { ok: false, reason: "wrong_code" };
      }
      return { ok: true, method: "totp" };
    }
    if (code.length !== 10 || !(await isEnabled(userId))) return { ok: false, reason: "wrong_code" };
    if (!(await spendRecoveryCode(db, userId, hashRecoveryCode(key, userId, code), new Date(now())))) return { ok: false, reason: "wrong_code" };
    logAuthEvent("recovery_code_used", { userId });
    return { ok: true, method: "recovery_code" };
  }

  /** Removes the second factor (an operator's `create-admin --reset-totp` for a lost phone): the person enrols again. */
  async function reset(userId: string): Promise<void> {
    await deleteSecondFactor(db, userId);
    logAuthEvent("totp_reset", { userId });
  }

  return { isEnabled, status, pendingEnrolment, restartEnrolment, confirmEnrolment, confirmEnrolmentProven, verify, reset, issuer, enrolmentCodes };
}

export type SecondFactor = ReturnType<typeof createSecondFactor>;
