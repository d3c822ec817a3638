import { NextResponse } from "next/server";
import { currentSession } from "@/lib/current-session";
import { jsonRoute, unauthenticated } from "@/lib/http";
import { getSessionList } from "@/lib/runtime";

/** The signed-in person's sessions that still hold, this one marked `current`. */
export const GET = jsonRoute(async () => {
  const session = await currentSession();
  if (!session) return unauthenticated();
  const sessions = await (await getSessionList()).list(session.userId, session.sessionId, Date.now());
  return NextResponse.json({ sessions });
});
