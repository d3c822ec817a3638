import "server-only";
import { createHash, timingSafeEqual } from "node:crypto";
import type { Database } from "@/db/client";
import { countUnverifiedUsersCreatedBefore, deleteUnverifiedUsersCreatedBefore } from "@/db/users";
import type { AppConfig } from "../platform/config";

/**
 * Housekeeping: accounts whose address was never proven are removed after a number of days
 * (UNVERIFIED_ACCOUNT_RETENTION_DAYS, default 7). Verified accounts are never touched. Run daily by Vercel Cron
 * (GET /api/cron/cleanup, see vercel.json) or by `npm run cleanup`.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

export interface CleanupOptions {
  olderThanDays: number;
  now?: Date;
}

function cutoffOf({ olderThanDays, now = new Date() }: CleanupOptions): Date {
  if (!Number.isInteger(olderThanDays) || olderThanDays < 1) {
    throw new RangeError(`olderThanDays must be a whole number of days, at least 1 (got ${olderThanDays})`);
  }
  return new Date(now.getTime() - olderThanDays * DAY_MS);
}

/** Deletes accounts never verified and created more than `olderThanDays` days before `now` (one DELETE); returns how many. */
export async function deleteUnverifiedAccounts(db: Database, options: CleanupOptions): Promise<number> {
  return deleteUnverifiedUsersCreatedBefore(db, cutoffOf(options));
}

/** How many accounts deleteUnverifiedAccounts would delete with the same options. */
export async function countUnverifiedAccounts(db: Database, options: CleanupOptions): Promise<number> {
  return countUnverifiedUsersCreatedBefore(db, cutoffOf(options));
}

/** `Authorization: Bearer <secret>`, compared in constant time (hashing first makes the lengths equal). */
export function hasCronSecret(request: Request, secret: string): boolean {
  const given = request.headers.get("authorization") ?? "";
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(`Bearer ${secret}`));
}

export interface CleanupRouteDependencies {
  housekeeping: () => AppConfig["housekeeping"];
  database: () => Promise<Database>;
  now?: () => Date;
}

/** The GET handler behind /api/cron/cleanup (Vercel Cron sends `Authorization: Bearer $CRON_SECRET`). */
export function createCleanupHandler(deps: CleanupRouteDependencies) {
  return async (request: Request): Promise<Response> => {
    const headers = { "Cache-Control": "no-store" };
    const { cronSecret, unverifiedRetentionDays } = deps.housekeeping();
    if (!cronSecret) {
      return Response.json({ error: { code: "not_configured", message: "Set CRON_SECRET to enable this endpoint." } }, { status: 503, headers });
    }
    if (!hasCronSecret(request, cronSecret)) {
      return Response.json(
        { error: { code: "unauthorized", message: "Send Authorization: Bearer <CRON_SECRET>." } },
        { status: 401, headers: { ...headers, "WWW-Authenticate": "Bearer" } },
      );
    }
    try {
      const deleted = await deleteUnverifiedAccounts(await deps.database(), {
        olderThanDays: unverifiedRetentionDays,
        now: deps.now?.(),
      });
      console.info(JSON.stringify({ at: new Date().toISOString(), event: "unverified_accounts_deleted", deleted, olderThanDays: unverifiedRetentionDays }));
      return Response.json({ ok: true, deleted, olderThanDays: unverifiedRetentionDays }, { headers });
    } catch (error) {
      console.error(JSON.stringify({ event: "cleanup_failed", type: error instanceof Error ? error.name : "unknown" }));
      return Response.json({ error: { code: "internal", message: "Cleanup failed; see the server log." } }, { status: 500, headers });
    }
  };
}
