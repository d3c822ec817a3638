import { NextResponse } from "next/server";
import { currentSession } from "@/lib/sessions/current-session";
import { jsonRoute, unauthenticated } from "@/lib/web/json-api";
import { getSessionList } from "@/lib/platform/runtime";

/** Ends one of the signed-in person's sessions (this one too, if asked: that is a logout). */
export function DELETE(request: Request, context: { params: Promise<{ id: string }> }) {
  return jsonRoute(async () => {
    const session = await currentSession();
    if (!session) return unauthenticated();
    const { id } = await context.params;
    const result = await (await getSessionList()).endOne(session.userId, id.slice(0, 64), Date.now());
    if (!result.ok) return NextResponse.json({ error: { code: "not_found", message: "No such session is open on your account." } }, { status: 404 });
    return NextResponse.json({ ok: true, current: id === session.sessionId });
  })(request);
}
