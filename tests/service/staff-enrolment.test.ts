import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Database } from "@/db/client";
import type { User } from "@/db/schema";
import { createOrPromoteStaff } from "@/lib/staff/create-admin";
import { ENROLMENT_CODE_MAX_FAILURES, ENROLMENT_CODE_TTL_MS, newEnrolmentCode } from "@/lib/credentials/staff-enrolment";
import { MemoryCodeStore } from "@/lib/store/memory";
import { createSecondFactor, totpCodeAt, type SecondFactor } from "@/lib/credentials/totp";
import { freshDatabase, insertUser, issueEnrolmentCode, testConfig } from "@/testing/admin-fixtures";

/**
 * A staff or admin account's authenticator enrolment needs, besides a session opened with its password,
 * the one-time enrolment code create-admin printed: refused without it or with a wrong one (which counts
 * on a limit), accepted once, replaced by the next one create-admin prints.
 */

const T0 = Date.UTC(2030, 0, 15, 12, 0, 15);

describe("the enrolment code", () => {
  let db: Database;
  let close: () => void;
  let now: number;
  let factor: SecondFactor;
  let user: User;
  const appCode = async () => totpCodeAt((await factor.pendingEnrolment(user))!.secret, now);
  const otherThan = (code: string) => {
    let other = code;
    while (other === code) other = newEnrolmentCode();
    return other;
  };

  beforeEach(async () => {
    vi.spyOn(console, "info").mockImplementation(() => {});
    ({ db, close } = await freshDatabase("staff-enrolment-test"));
    now = T0;
    factor = createSecondFactor({ db, config: testConfig, now: () => now });
    user = await insertUser(db, { email: "ops@example.test", role: "admin" });
  });
  afterEach(() => {
    close();
    vi.restoreAllMocks();
  });

  it("without one, enrolment is refused even with the right code from the app", async () => {
    expect(await factor.enrolmentCodes.isOutstanding(user.id)).toBe(false);
    expect(await factor.confirmEnrolment(user.id, await appCode(), "")).toEqual({ ok: false, reason: "enrolment_code_none" });
    expect(await factor.confirmEnrolment(user.id, await appCode(), newEnrolmentCode())).toEqual({ ok: false, reason: "enrolment_code_none" });
    expect(await factor.isEnabled(user.id)).toBe(false);
  });

  it("with the printed one, enrolment works once; the code cannot be used again", async () => {
    const code = await issueEnrolmentCode(db, user.id, () => now);
    expect(await factor.enrolmentCodes.isOutstanding(user.id)).toBe(true);
    expect(await factor.confirmEnrolment(user.id, await appCode(), code.toUpperCase().replace("-", " "))).toEqual({ ok: true });
    expect(await factor.isEnabled(user.id)).toBe(true);
    expect(await factor.enrolmentCodes.isOutstanding(user.id)).toBe(false);
    // The factor removed again (without create-admin printing a new code): the old code is spent.
    await factor.reset(user.id);
    expect(await factor.confirmEnrolment(user.id, await appCode(), code)).toEqual({ ok: false, reason: "enrolment_code_none" });
    expect(await factor.isEnabled(user.id)).toBe(false);
  });

  it("a wrong one is refused and counts: after the limit even the right one no longer works", async () => {
    const code = await issueEnrolmentCode(db, user.id, () => now);
    for (let i = 1; i < ENROLMENT_CODE_MAX_FAILURES; i++) {
      expect(await factor.confirmEnrolment(user.id, await appCode(), otherThan(code))).toEqual({ ok: false, reason: "enrolment_code_wrong_code" });
    }
    expect(await factor.confirmEnrolment(user.id, await appCode(), otherThan(code))).toEqual({ ok: false, reason: "enrolment_code_used_up" });
    expect(await factor.confirmEnrolment(user.id, await appCode(), code)).toEqual({ ok: false, reason: "enrolment_code_none" });
    expect(await factor.isEnabled(user.id)).toBe(false);
  });

  it("a wrong code from the app does not use up the enrolment code's tries, and does not spend it", async () => {
    const code = await issueEnrolmentCode(db, user.id, () => now);
    const wrongApp = String((Number(await appCode()) + 1) % 1_000_000).padStart(6, "0");
    for (let i = 0; i < ENROLMENT_CODE_MAX_FAILURES + 1; i++) {
      expect(await factor.confirmEnrolment(user.id, wrongApp, code)).toEqual({ ok: false, reason: "wrong_code" });
    }
    expect(await factor.confirmEnrolment(user.id, await appCode(), code)).toEqual({ ok: true });
  });

  it("expires after seven days", async () => {
    const code = await issueEnrolmentCode(db, user.id, () => now);
    now += ENROLMENT_CODE_TTL_MS;
    expect(await factor.confirmEnrolment(user.id, await appCode(), code)).toEqual({ ok: false, reason: "enrolment_code_none" });
  });

  it("is another account's code only for that account", async () => {
    const other = await insertUser(db, { email: "other@example.test", role: "staff" });
    const othersCode = await issueEnrolmentCode(db, other.id, () => now);
    await issueEnrolmentCode(db, user.id, () => now);
    expect(await factor.confirmEnrolment(user.id, await appCode(), othersCode)).toEqual({ ok: false, reason: "enrolment_code_wrong_code" });
  });

  it("create-admin --reset-totp prints a fresh code and the earlier one stops working; only a keyed hash is stored", async () => {
    const deps = { db, store: new MemoryCodeStore(), config: testConfig, now: () => now };
    const first = await createOrPromoteStaff(deps, { email: user.email, role: "admin", resetTotp: false }, vi.fn());
    const second = await createOrPromoteStaff(deps, { email: user.email, role: "admin", resetTotp: true }, vi.fn());
    expect(second.totpReset).toBe(true);
    const [firstCode, secondCode] = [first.enrolmentCode!.code, second.enrolmentCode!.code];
    expect(secondCode).not.toBe(firstCode);
    expect(second.enrolmentCode!.expiresAt.getTime()).toBe(now + ENROLMENT_CODE_TTL_MS);
    const stored = JSON.stringify(await db.all(sql`select * from staff_enrolment_codes`));
    for (const code of [firstCode, secondCode]) {
      expect(stored).not.toContain(code);
      expect(stored).not.toContain(code.replace("-", ""));
    }
    expect(await factor.confirmEnrolment(user.id, await appCode(), firstCode)).toEqual({ ok: false, reason: "enrolment_code_wrong_code" });
    expect(await factor.confirmEnrolment(user.id, await appCode(), secondCode)).toEqual({ ok: true });
  });
});
