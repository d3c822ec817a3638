import { NextResponse } from "next/server";
import { currentSession } from "@/lib/sessions/current-session";
import { apiFailure, jsonRoute, parseJsonBody, publicUser, unauthenticated } from "@/lib/web/json-api";
import { renewCurrentSession } from "@/lib/sessions/login";
import { requestContext } from "@/lib/web/request-context";
import { getAccountSettings } from "@/lib/platform/runtime";
import { otpOnlySchema } from "@/lib/schemas";

export const POST = jsonRoute(async (request) => {
  const userId = (await currentSession())?.userId;
  if (!userId) return unauthenticated();
  const body = await parseJsonBody(request, otpOnlySchema);
  if (!body.ok) return body.response;
  const result = await (await getAccountSettings()).confirmEmailChange(userId, body.data, requestContext(request.headers));
  if (!result.ok) return apiFailure(result);
  await renewCurrentSession(result.user);
  return NextResponse.json({ ok: true, message: "Your login email was changed.", user: publicUser(result.user) });
});
