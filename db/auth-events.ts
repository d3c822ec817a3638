import "server-only";
import { sql } from "drizzle-orm";
import type { Database } from "./client";
import { authEvents } from "./schema";

/** The auth_events table: the audit log's writes (lib/platform/audit.ts) and the operators' metrics (lib/staff/metrics.ts). */

export async function insertAuthEvents(db: Database, rows: Array<typeof authEvents.$inferInsert>): Promise<void> {
  await db.insert(authEvents).values(rows);
}

/**
 * One pass over the span's rows of the four events the metrics chart (index auth_events_event_at), counted per
 * bucket of `bucketMs` from `from`; code_sent only for mail of one of `codeKinds` (codes, not notices).
 */
export async function countEventsPerBucket(
  db: Database,
  span: { from: number; to: number; bucketMs: number },
  codeKinds: readonly string[],
): Promise<Array<{ bucket: number; event: string; n: number }>> {
  const { from, to, bucketMs } = span;
  const kinds = sql.join(
    codeKinds.map((p) => sql`${p}`),
    sql`, `,
  );
  return db.all<{ bucket: number; event: string; n: number }>(sql`
    select cast((at - ${from}) / ${bucketMs} as integer) as bucket, event, count(*) as n
    from auth_events
    where event in ('registered', 'verified', 'code_sent', 'code_send_failed')
      and at >= ${from} and at < ${to}
      and (event <> 'code_sent' or json_extract(detail, '$.kind') in (${kinds}))
    group by bucket, event`);
}

/** Of the accounts registered in the span, how many there are and how many have verified (by now). */
export async function countRegistrationsVerified(
  db: Database,
  span: { from: number; to: number },
): Promise<{ registered: number; verified: number } | undefined> {
  const [rate] = await db.all<{ registered: number; verified: number }>(sql`
    select count(*) as registered, count(v.user_id) as verified
    from auth_events r
    left join (select distinct user_id from auth_events where event = 'verified' and user_id is not null) v on v.user_id = r.user_id
    where r.event = 'registered' and r.at >= ${span.from} and r.at < ${span.to}`);
  return rate;
}

/** For each verification in the span, the time since the account registered, shortest first. */
export async function verificationDurations(db: Database, span: { from: number; to: number }): Promise<Array<{ ms: number }>> {
  return db.all<{ ms: number }>(sql`
    select v.at - min(r.at) as ms
    from auth_events v
    join auth_events r on r.user_id = v.user_id and r.event = 'registered' and r.at <= v.at
    where v.event = 'verified' and v.at >= ${span.from} and v.at < ${span.to}
    group by v.id
    order by ms`);
}
