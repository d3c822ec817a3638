import { NextResponse } from "next/server";
import { currentSession } from "@/lib/sessions/current-session";
import { getConfig } from "@/lib/platform/config";
import { apiFailure, jsonRoute, parseJsonBody, unauthenticated } from "@/lib/web/json-api";
import { renewCurrentSession } from "@/lib/sessions/login";
import { requestContext } from "@/lib/web/request-context";
import { getAccountSettings } from "@/lib/platform/runtime";
import { changePasswordSchema } from "@/lib/schemas";

export const POST = jsonRoute(async (request) => {
  const userId = (await currentSession())?.userId;
  if (!userId) return unauthenticated();
  const body = await parseJsonBody(request, changePasswordSchema(getConfig().passwordMinLength));
  if (!body.ok) return body.response;
  const result = await (await getAccountSettings()).changePassword(userId, body.data, requestContext(request.headers));
  if (!result.ok) return apiFailure(result);
  await renewCurrentSession(result.user);
  return NextResponse.json({ ok: true, message: "Your password was changed; every other session was signed out." });
});
