import { NextResponse } from "next/server";
import { currentSession } from "@/lib/sessions/current-session";
import { apiFailure, jsonRoute, parseJsonBody, unauthenticated } from "@/lib/web/json-api";
import { requestContext } from "@/lib/web/request-context";
import { getAccountSettings } from "@/lib/platform/runtime";
import { changeEmailSchema } from "@/lib/schemas";

export const POST = jsonRoute(async (request) => {
  const userId = (await currentSession())?.userId;
  if (!userId) return unauthenticated();
  const body = await parseJsonBody(request, changeEmailSchema);
  if (!body.ok) return body.response;
  const result = await (await getAccountSettings()).requestEmailChange(userId, body.data, requestContext(request.headers));
  if (!result.ok) return apiFailure(result);
  return NextResponse.json({ ok: true, message: `We sent a code to ${result.email}. Your address changes once you enter it.` });
});
