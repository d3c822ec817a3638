import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Database } from "@/db/client";
import { recoveryCodes, totpCredentials, type User } from "@/db/schema";
import {
  createSecondFactor,
  decryptForUser,
  encryptForUser,
  hashRecoveryCode,
  matchingTimeStep,
  newRecoveryCodes,
  newTotpSecret,
  otpauthUri,
  qrCodeSvg,
  totpCodeAt,
  type SecondFactor,
} from "@/lib/credentials/totp";
import { freshDatabase, insertUser, issueEnrolmentCode, testConfig } from "@/testing/admin-fixtures";

const KEY = testConfig.totp.encryptionKey;
const STEP = 30_000;
// Mid-step, so "now" and "now ± one step" are unambiguous.
const T0 = Date.UTC(2030, 0, 15, 12, 0, 15);

describe("encryption at rest", () => {
  it("round-trips, with a fresh IV each time", () => {
    const a = encryptForUser(KEY, "user-1", "JBSWY3DPEHPK3PXP");
    const b = encryptForUser(KEY, "user-1", "JBSWY3DPEHPK3PXP");
    expect(a).not.toBe(b);
    expect(a).not.toContain("JBSWY3DPEHPK3PXP");
    expect(decryptForUser(KEY, "user-1", a)).toBe("JBSWY3DPEHPK3PXP");
  });

  it("refuses another user's row, another key and a tampered value", () => {
    const sealed = encryptForUser(KEY, "user-1", "JBSWY3DPEHPK3PXP");
    expect(() => decryptForUser(KEY, "user-2", sealed)).toThrow();
    expect(() => decryptForUser(Buffer.alloc(32, 7), "user-1", sealed)).toThrow();
    const [v, iv, ct, tag] = sealed.split(".");
    const flipped = Buffer.from(ct!, "base64url");
    flipped[0]! ^= 1;
    expect(() => decryptForUser(KEY, "user-1", [v, iv, flipped.toString("base64url"), tag].join("."))).toThrow();
  });
});

describe("TOTP codes (RFC 6238)", () => {
  it("matches the RFC 6238 SHA-1 test vector (T = 59 s -> 94287082, 8 digits; 6-digit tail 287082)", () => {
    // Secret "12345678901234567890" in base32.
    const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    expect(totpCodeAt(secret, 59_000)).toBe("287082");
    expect(matchingTimeStep(secret, "287082", 59_000)).toBe(1);
  });

  it("accepts one step either side of now and nothing further", () => {
    const secret = newTotpSecret();
    const step = Math.floor(T0 / STEP);
    expect(matchingTimeStep(secret, totpCodeAt(secret, T0), T0)).toBe(step);
    expect(matchingTimeStep(secret, totpCodeAt(secret, T0 - STEP), T0)).toBe(step - 1);
    expect(matchingTimeStep(secret, totpCodeAt(secret, T0 + STEP), T0)).toBe(step + 1);
    expect(matchingTimeStep(secret, totpCodeAt(secret, T0 - 3 * STEP), T0)).toBeNull();
    expect(matchingTimeStep(secret, "abcdef", T0)).toBeNull();
  });

  it("builds an otpauth URI and an SVG QR code for it", async () => {
    const secret = newTotpSecret();
    const uri = otpauthUri(secret, { issuer: "Verified Signup", account: "ops@example.test" });
    expect(uri).toMatch(/^otpauth:\/\/totp\/Verified%20Signup:ops%40example\.test\?/);
    expect(uri).toContain(`secret=${secret}`);
    const svg = await qrCodeSvg(uri);
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).not.toMatch(/<script|style=/);
  });

  it("makes ten distinct recovery codes of 10 characters", () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
    expect(hashRecoveryCode(KEY, "u", codes[0]!)).toBe(hashRecoveryCode(KEY, "u", codes[0]!.toUpperCase().replace("-", " ")));
    expect(hashRecoveryCode(KEY, "u", codes[0]!)).not.toBe(hashRecoveryCode(KEY, "v", codes[0]!));
  });
});

describe("the second-factor service", () => {
  let db: Database;
  let close: () => void;
  let file: string;
  let now = T0;
  let factor: SecondFactor;
  let user: User;

  beforeEach(async () => {
    vi.spyOn(console, "info").mockImplementation(() => {});
    ({ db, close, file } = await freshDatabase("totp-test"));
    now = T0;
    factor = createSecondFactor({ db, config: testConfig, now: () => now });
    user = await insertUser(db, { email: "ops@example.test", role: "admin" });
  });
  afterEach(() => {
    close();
    vi.restoreAllMocks();
  });

  async function enrol() {
    const pending = (await factor.pendingEnrolment(user))!;
    expect(await factor.confirmEnrolment(user.id, totpCodeAt(pending.secret, now), await issueEnrolmentCode(db, user.id, () => now))).toEqual({ ok: true });
    return pending;
  }

  it("keeps one pending enrolment (same secret and codes on every visit) until confirmed or restarted", async () => {
    const first = (await factor.pendingEnrolment(user))!;
    const again = (await factor.pendingEnrolment(user))!;
    expect(again).toEqual(first);
    expect(first.recoveryCodes).toHaveLength(10);
    expect(await factor.status(user.id)).toEqual({ enabled: false, pending: true, recoveryCodesLeft: 0 });
    await factor.restartEnrolment(user.id);
    const fresh = (await factor.pendingEnrolment(user))!;
    expect(fresh.secret).not.toBe(first.secret);
  });

  it("stores the secret encrypted: neither the column nor the database file holds the base32 secret", async () => {
    const pending = await enrol();
    const rows = await db.all<Record<string, unknown>>(sql`select * from totp_credentials`);
    expect(rows).toHaveLength(1);
    const text = JSON.stringify(rows);
    expect(text).not.toContain(pending.secret);
    expect(String(rows[0]!.secret_ciphertext)).toMatch(/^v1\./);
    expect(decryptForUser(KEY, user.id, String(rows[0]!.secret_ciphertext))).toBe(pending.secret);
    // The file on disk (and its write-ahead log) never saw it either.
    for (const path of [file, `${file}-wal`]) {
      let bytes = "";
      try {
        bytes = readFileSync(path).toString("latin1");
      } catch {
        continue;
      }
      expect(bytes).not.toContain(pending.secret);
    }
  });

  it("refuses a wrong first code and turns on with the right one; recovery codes are then stored only as hashes", async () => {
    const pending = (await factor.pendingEnrolment(user))!;
    const enrolmentCode = await issueEnrolmentCode(db, user.id, () => now);
    const wrong = String((Number(totpCodeAt(pending.secret, now)) + 1) % 1_000_000).padStart(6, "0");
    expect(await factor.confirmEnrolment(user.id, wrong, enrolmentCode)).toEqual({ ok: false, reason: "wrong_code" });
    expect(await factor.isEnabled(user.id)).toBe(false);

    expect(await factor.confirmEnrolment(user.id, totpCodeAt(pending.secret, now), enrolmentCode)).toEqual({ ok: true });
    expect(await factor.isEnabled(user.id)).toBe(true);
    expect(await factor.status(user.id)).toEqual({ enabled: true, pending: false, recoveryCodesLeft: 10 });
    expect(await factor.pendingEnrolment(user)).toBeUndefined();
    const [credential] = await db.select().from(totpCredentials);
    expect(credential!.pendingRecoveryCodes).toBeNull();
    const stored = JSON.stringify(await db.select().from(recoveryCodes));
    for (const code of pending.recoveryCodes) {
      expect(stored).not.toContain(code);
      expect(stored).not.toContain(code.replace("-", ""));
    }
  });

  it("accepts each time-step once: the enrolment code, a replay and an older step are refused", async () => {
    const pending = await enrol();
    // The code that confirmed enrolment cannot be used again.
    expect(await factor.verify(user.id, totpCodeAt(pending.secret, now))).toEqual({ ok: false, reason: "wrong_code" });
    now += STEP;
    const code = totpCodeAt(pending.secret, now);
    expect(await factor.verify(user.id, code)).toEqual({ ok: true, method: "totp" });
    expect(await factor.verify(user.id, code)).toEqual({ ok: false, reason: "wrong_code" });
    // One step later the previous step's code is still inside the window, but older than the last used.
    now += STEP;
    expect(await factor.verify(user.id, code)).toEqual({ ok: false, reason: "wrong_code" });
    expect(await factor.verify(user.id, totpCodeAt(pending.secret, now).replace(/^(\d{3})/, "$1 "))).toEqual({ ok: true, method: "totp" });
  });

  it("two logins racing with the same code: exactly one wins", async () => {
    const pending = await enrol();
    now += STEP;
    const code = totpCodeAt(pending.secret, now);
    const results = await Promise.all(Array.from({ length: 5 }, () => factor.verify(user.id, code)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it("a recovery code works once, typed in any case or spacing", async () => {
    const pending = await enrol();
    const [first, second] = pending.recoveryCodes;
    expect(await factor.verify(user.id, first!.toUpperCase().replace("-", " "))).toEqual({ ok: true, method: "recovery_code" });
    expect(await factor.verify(user.id, first!)).toEqual({ ok: false, reason: "wrong_code" });
    expect(await factor.verify(user.id, "abcde-fghjk")).toEqual({ ok: false, reason: "wrong_code" });
    expect((await factor.status(user.id)).recoveryCodesLeft).toBe(9);
    expect(await factor.verify(user.id, second!)).toEqual({ ok: true, method: "recovery_code" });
  });

  it("a recovery code of another account does not work", async () => {
    const pending = await enrol();
    const other = await insertUser(db, { email: "other@example.test", role: "staff" });
    const otherPending = (await factor.pendingEnrolment(other))!;
    await factor.confirmEnrolment(other.id, totpCodeAt(otherPending.secret, now), await issueEnrolmentCode(db, other.id, () => now));
    expect(await factor.verify(other.id, pending.recoveryCodes[0]!)).toEqual({ ok: false, reason: "wrong_code" });
  });

  it("reset removes the factor and its recovery codes", async () => {
    await enrol();
    await factor.reset(user.id);
    expect(await factor.status(user.id)).toEqual({ enabled: false, pending: false, recoveryCodesLeft: 0 });
    expect(await db.select().from(recoveryCodes)).toEqual([]);
  });

  it("an unreadable secret (the key changed) refuses codes instead of failing", async () => {
    const pending = await enrol();
    const rotated = createSecondFactor({ db, config: { totp: { ...testConfig.totp, encryptionKey: Buffer.alloc(32, 1) } }, now: () => now + STEP });
    expect(await rotated.verify(user.id, totpCodeAt(pending.secret, now + STEP))).toEqual({ ok: false, reason: "wrong_code" });
  });
});
