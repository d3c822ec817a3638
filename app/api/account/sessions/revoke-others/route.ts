import { NextResponse } from "next/server";
import * as z from "zod/mini";
import { currentSession } from "@/lib/sessions/current-session";
import { jsonRoute, parseJsonBody, unauthenticated } from "@/lib/web/json-api";
import { getSessionList } from "@/lib/platform/runtime";

/** Ends every session of the signed-in person but the one this request came with. */
export const POST = jsonRoute(async (request) => {
  const session = await currentSession();
  if (!session) return unauthenticated();
  // An empty JSON object: like every mutation of this API, only application/json (no cross-site form can send it).
  const body = await parseJsonBody(request, z.object({}));
  if (!body.ok) return body.response;
  const result = await (await getSessionList()).endOthers(session.userId, session.sessionId, Date.now());
  return NextResponse.json(result);
});
