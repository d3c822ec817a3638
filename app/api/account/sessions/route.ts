import { NextResponse } from "next/server";
import { currentSession } from "@/lib/sessions/current-session";
import { jsonRoute, unauthenticated } from "@/lib/web/json-api";
import { getSessionList } from "@/lib/platform/runtime";

/** The signed-in person's sessions that still hold, this one marked `current`. */
export const GET = jsonRoute(async () => {
  const session = await currentSession();
  if (!session) return unauthenticated();
  const sessions = await (await getSessionList()).list(session.userId, session.sessionId, Date.now());
  return NextResponse.json({ sessions });
});
