import { NextResponse } from "next/server";
import { currentSession } from "@/lib/sessions/current-session";
import { apiFailure, jsonRoute, parseJsonBody, unauthenticated } from "@/lib/web/json-api";
import { requestContext } from "@/lib/web/request-context";
import { getOwnSecondFactor } from "@/lib/platform/runtime";
import { passwordOnlySchema } from "@/lib/schemas";

/** Starts turning TOTP on: the password again; a code goes to the address; the app's secret and the recovery codes come back. */
export const POST = jsonRoute(async (request) => {
  const userId = (await currentSession())?.userId;
  if (!userId) return unauthenticated();
  const body = await parseJsonBody(request, passwordOnlySchema);
  if (!body.ok) return body.response;
  const result = await (await getOwnSecondFactor()).start(userId, body.data.password, requestContext(request.headers));
  if (!result.ok) {
    if (result.reason === "not_allowed")
      return NextResponse.json(
        { error: { code: "not_allowed", message: "Two-factor authentication is already on, or is set up another way for this account." } },
        { status: 409 },
      );
    return apiFailure(result);
  }
  const { secret, uri, recoveryCodes } = result.enrolment;
  return NextResponse.json({ ok: true, delivery: result.delivery, secret, uri, recoveryCodes }, { headers: { "Cache-Control": "no-store" } });
});
