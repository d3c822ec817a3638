import { cleanupRoute } from "@/lib/platform/runtime";

export const dynamic = "force-dynamic";

/** Called daily by Vercel Cron (vercel.json) with `Authorization: Bearer $CRON_SECRET`: 401 without it, 503 when unset. */
export const GET = cleanupRoute;
