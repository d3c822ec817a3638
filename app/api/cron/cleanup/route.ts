import { getDatabase } from "@/db/client";
import { createCleanupHandler } from "@/lib/staff/cleanup";
import { getConfig } from "@/lib/platform/config";

export const dynamic = "force-dynamic";

/** Called daily by Vercel Cron (vercel.json) with `Authorization: Bearer $CRON_SECRET`: 401 without it, 503 when unset. */
export const GET = createCleanupHandler({
  housekeeping: () => getConfig().housekeeping,
  database: getDatabase,
});
