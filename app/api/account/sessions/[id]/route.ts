import { NextResponse } from "next/server";
import { currentSession } from "@/lib/sessions/current-session";
import { apiFailure, jsonRoute, parseJsonBody, unauthenticated } from "@/lib/web/json-api";
import { requestContext } from "@/lib/web/request-context";
import { getSessionList } from "@/lib/platform/runtime";
import { passwordOnlySchema } from "@/lib/schemas";

/**
 * Ends one of the signed-in person's sessions: another device's with `{ "password": … }` in the body, this one
 * (a logout) without.
 */
export function DELETE(request: Request, context: { params: Promise<{ id: string }> }) {
  return jsonRoute(async () => {
    const session = await currentSession();
    if (!session) return unauthenticated();
    const id = (await context.params).id.slice(0, 64);
    const own = id === session.sessionId;
    const body = own ? undefined : await parseJsonBody(request, passwordOnlySchema);
    if (body && !body.ok) return body.response;
    const asked = { currentId: session.sessionId, password: body?.data.password, context: requestContext(request.headers) };
    const result = await (await getSessionList()).endOne(session.userId, id, asked, Date.now());
    if (result.ok) return NextResponse.json({ ok: true, current: own });
    if (result.reason === "not_found")
      return NextResponse.json({ error: { code: "not_found", message: "No such session is open on your account." } }, { status: 404 });
    return apiFailure(result);
  })(request);
}
