import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "@/db/client";
import { authEvents } from "@/db/schema";
import { authMetrics, formatDuration, median } from "@/lib/staff/metrics";
import { freshDatabase } from "@/testing/admin-fixtures";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// 12:30 UTC: the 24-hour span is 13:00 the day before to 13:00 today, in 24 hourly buckets.
const NOW = Date.UTC(2030, 0, 15, 12, 30);

let db: Database;
let close: () => void;

beforeEach(async () => {
  ({ db, close } = await freshDatabase("metrics-test"));
});
afterEach(() => close());

async function event(event: string, agoMs: number, fields: { userId?: string; kind?: string } = {}) {
  await db.insert(authEvents).values({
    at: new Date(NOW - agoMs),
    event,
    userId: fields.userId ?? null,
    detail: fields.kind ? JSON.stringify({ kind: fields.kind }) : null,
  });
}

/** A signup `agoMs` ago with its code mail, verified `verifiedAfterMs` later (or never). */
async function signup(userId: string, agoMs: number, verifiedAfterMs?: number) {
  await event("registered", agoMs, { userId });
  await event("code_sent", agoMs, { kind: "verify_email" });
  if (verifiedAfterMs !== undefined) await event("verified", agoMs - verifiedAfterMs, { userId });
}

describe("authMetrics", () => {
  it("is all zeros and nulls on an empty table", async () => {
    const m = await authMetrics(db, "24h", NOW);
    expect(m).toMatchObject({ registrations: 0, verificationRate: null, codesSent: 0, deliveryFailures: 0, medianVerificationMs: null });
    expect(m.bucketStarts).toHaveLength(24);
    expect(m.series.registrations).toEqual(Array(24).fill(0));
  });

  it("counts registrations, verification rate, codes, failures and the median time to verify over 24 hours and 7 days", async () => {
    await signup("a", 1 * HOUR, 2 * MINUTE);
    await signup("b", 2 * HOUR, 4 * MINUTE);
    await signup("c", 3 * HOUR, 30 * MINUTE);
    await signup("d", 5 * HOUR); // not verified (yet)
    await signup("e", 3 * DAY, 10 * MINUTE); // only in the 7-day span
    await signup("f", 10 * DAY, 1 * MINUTE); // in neither
    await event("code_send_failed", 30 * MINUTE, { kind: "verify_email" });
    await event("code_send_failed", 2 * DAY, { kind: "password_changed" });
    // Notices are mail but not codes; other events are not counted.
    await event("code_sent", 10 * MINUTE, { kind: "existing_account" });
    await event("code_sent", 10 * MINUTE, { kind: "reset_password" });
    await event("login_ok", 10 * MINUTE, { userId: "a" });

    const day = await authMetrics(db, "24h", NOW);
    expect(day).toMatchObject({
      registrations: 4,
      registrationsVerified: 3,
      verificationRate: 0.75,
      verifications: 3,
      codesSent: 5,
      deliveryFailures: 1,
      medianVerificationMs: 4 * MINUTE,
    });
    expect(day.series.registrations.reduce((a, b) => a + b, 0)).toBe(4);
    // Bucket 23 is 12:00-13:00 today; a signup 1 hour ago (11:30) is in bucket 22.
    expect(day.bucketStarts[23]!.toISOString()).toBe("2030-01-15T12:00:00.000Z");
    expect(day.series.registrations[22]).toBe(1);

    const week = await authMetrics(db, "7d", NOW);
    expect(week).toMatchObject({
      registrations: 5,
      registrationsVerified: 4,
      verificationRate: 0.8,
      codesSent: 6,
      deliveryFailures: 2,
      // 2, 4, 10, 30 minutes: the median is between 4 and 10.
      medianVerificationMs: 7 * MINUTE,
    });
    expect(week.bucketStarts).toHaveLength(7);
    expect(week.bucketStarts[6]!.toISOString()).toBe("2030-01-15T00:00:00.000Z");
  });

  it("counts a signup verified later, after the span was read, once it happened", async () => {
    await signup("late", 2 * HOUR);
    expect((await authMetrics(db, "24h", NOW)).verificationRate).toBe(0);
    await event("verified", 0, { userId: "late" });
    const m = await authMetrics(db, "24h", NOW + 1);
    expect(m.verificationRate).toBe(1);
    expect(m.medianVerificationMs).toBe(2 * HOUR - 0);
  });
});

describe("helpers", () => {
  it("median of odd and even lists", () => {
    expect(median([])).toBeNull();
    expect(median([5])).toBe(5);
    expect(median([1, 2, 9])).toBe(2);
    expect(median([1, 2, 4, 9])).toBe(3);
  });

  it("formats durations for people", () => {
    expect(formatDuration(45_000)).toBe("45 s");
    expect(formatDuration(200_000)).toBe("3 min 20 s");
    expect(formatDuration(2 * HOUR + 5 * MINUTE)).toBe("2 h 5 min");
    expect(formatDuration(27 * HOUR)).toBe("1 d 3 h");
  });
});
