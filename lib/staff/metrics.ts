import "server-only";
import type { Database } from "@/db/client";
import { countEventsPerBucket, countRegistrationsVerified, verificationDurations } from "@/db/auth-events";
import { CODE_PURPOSES } from "../codes/codes";

/**
 * What operators watch, read from the auth_events table (lib/platform/audit.ts): registrations, how many of them
 * verified, codes sent, failed deliveries and the median time from signup to verification, over the
 * last 24 hours (hourly buckets) or 7 days (daily buckets).
 */

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

export const METRIC_SPANS = {
  "24h": { label: "last 24 hours", durationMs: DAY, bucketMs: HOUR, bucketLabel: "hour" },
  "7d": { label: "last 7 days", durationMs: 7 * DAY, bucketMs: DAY, bucketLabel: "day" },
} as const;
export type MetricSpan = keyof typeof METRIC_SPANS;

export const SERIES = ["registrations", "verifications", "codesSent", "deliveryFailures"] as const;
export type SeriesName = (typeof SERIES)[number];

export interface AuthMetrics {
  span: MetricSpan;
  from: Date;
  to: Date;
  registrations: number;
  /** Of the accounts registered in the span, how many have verified (by now). */
  registrationsVerified: number;
  /** registrationsVerified / registrations; null with no registrations. */
  verificationRate: number | null;
  /** Verifications that happened in the span (whenever the account registered). */
  verifications: number;
  /** Codes mailed (every purpose; notices are not codes). */
  codesSent: number;
  /** Mail that could not be handed to the transport (codes and notices). */
  deliveryFailures: number;
  /** Median time from signup to verification, for verifications in the span; null with none. */
  medianVerificationMs: number | null;
  /** Start of each bucket, oldest first. */
  bucketStarts: Date[];
  series: Record<SeriesName, number[]>;
}

const EVENT_OF_SERIES: Record<string, SeriesName> = {
  registered: "registrations",
  verified: "verifications",
  code_sent: "codesSent",
  code_send_failed: "deliveryFailures",
};

export function median(sortedValues: number[]): number | null {
  const n = sortedValues.length;
  if (n === 0) return null;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? sortedValues[mid]! : (sortedValues[mid - 1]! + sortedValues[mid]!) / 2;
}

export async function authMetrics(db: Database, span: MetricSpan, now = Date.now()): Promise<AuthMetrics> {
  const { durationMs, bucketMs } = METRIC_SPANS[span];
  // Buckets end at the next whole bucket after now (UTC), so each bar is a calendar hour or day.
  const to = Math.ceil((now + 1) / bucketMs) * bucketMs;
  const buckets = Math.round(durationMs / bucketMs);
  const from = to - buckets * bucketMs;

  const counted = await countEventsPerBucket(db, { from, to, bucketMs }, CODE_PURPOSES);

  const series = Object.fromEntries(SERIES.map((name) => [name, Array<number>(buckets).fill(0)])) as Record<SeriesName, number[]>;
  for (const row of counted) {
    const name = EVENT_OF_SERIES[row.event];
    const bucket = Number(row.bucket);
    if (name && bucket >= 0 && bucket < buckets) series[name][bucket]! += Number(row.n);
  }
  const total = (name: SeriesName) => series[name].reduce((a, b) => a + b, 0);

  const rate = await countRegistrationsVerified(db, { from, to });
  const durations = await verificationDurations(db, { from, to });

  const registrations = total("registrations");
  const registrationsVerified = Number(rate?.verified ?? 0);
  return {
    span,
    from: new Date(from),
    to: new Date(to),
    registrations,
    registrationsVerified,
    verificationRate: registrations > 0 ? Math.min(1, registrationsVerified / registrations) : null,
    verifications: total("verifications"),
    codesSent: total("codesSent"),
    deliveryFailures: total("deliveryFailures"),
    medianVerificationMs: median(durations.map((d) => Number(d.ms))),
    bucketStarts: Array.from({ length: buckets }, (_, i) => new Date(from + i * bucketMs)),
    series,
  };
}

/** "45 s", "3 min 20 s", "2 h 5 min", "1 d 3 h". */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}
