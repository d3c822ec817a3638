import { NextResponse } from "next/server";
import { currentSession } from "@/lib/sessions/current-session";
import { apiFailure, jsonRoute, parseJsonBody, unauthenticated } from "@/lib/web/json-api";
import { requestContext } from "@/lib/web/request-context";
import { getSessionList } from "@/lib/platform/runtime";
import { passwordOnlySchema } from "@/lib/schemas";

/** Ends every session of the signed-in person but the one this request came with: `{ "password": … }` typed again. */
export const POST = jsonRoute(async (request) => {
  const session = await currentSession();
  if (!session) return unauthenticated();
  const body = await parseJsonBody(request, passwordOnlySchema);
  if (!body.ok) return body.response;
  const asked = { currentId: session.sessionId, password: body.data.password, context: requestContext(request.headers) };
  const result = await (await getSessionList()).endOthers(session.userId, asked, Date.now());
  if (!result.ok) return apiFailure(result);
  return NextResponse.json(result);
});
