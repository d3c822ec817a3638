import { NextResponse } from "next/server";
import { currentSession } from "@/lib/sessions/current-session";
import { renewCurrentSession } from "@/lib/sessions/login";
import { apiError, apiFailure, jsonRoute, parseJsonBody, unauthenticated } from "@/lib/web/json-api";
import { requestContext } from "@/lib/web/request-context";
import { getOwnSecondFactor } from "@/lib/platform/runtime";
import { enableTotpSchema } from "@/lib/schemas";

/** Turns TOTP on with the app's code and the mailed code; every other session of the account ends, this one is renewed. */
export const POST = jsonRoute(async (request) => {
  const userId = (await currentSession())?.userId;
  if (!userId) return unauthenticated();
  const body = await parseJsonBody(request, enableTotpSchema);
  if (!body.ok) return body.response;
  const result = await (await getOwnSecondFactor()).confirm(userId, body.data, requestContext(request.headers));
  if (result.ok) {
    await renewCurrentSession(result.user);
    return NextResponse.json({ ok: true });
  }
  if (result.reason === "rate_limited") return apiFailure(result);
  if (result.reason === "email_code_wrong") return apiError("wrong_code", { fields: { emailCode: "That code from the email is not right." } });
  if (result.reason === "wrong_code") return apiError("wrong_code", { fields: { code: "That code from your app is not right." } });
  if (result.reason === "not_pending" || result.reason === "not_allowed")
    return NextResponse.json({ error: { code: "not_pending", message: "Start again: type your password to get a new code." } }, { status: 409 });
  return apiFailure(result as { reason: "expired" | "used" | "too_many_attempts" });
});
