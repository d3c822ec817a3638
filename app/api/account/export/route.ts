import { NextResponse } from "next/server";
import { currentSession } from "@/lib/sessions/current-session";
import { jsonRoute, unauthenticated } from "@/lib/web/json-api";
import { getAccountData } from "@/lib/platform/runtime";

/** "Download my data": what the product holds about the signed-in person, as a JSON file. */
export const GET = jsonRoute(async () => {
  const userId = (await currentSession())?.userId;
  if (!userId) return unauthenticated();
  const exported = await (await getAccountData()).exportData(userId);
  if (!exported) return unauthenticated();
  return new NextResponse(JSON.stringify(exported, null, 2), {
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Disposition": 'attachment; filename="my-account-data.json"',
      "Cache-Control": "no-store",
    },
  });
});
