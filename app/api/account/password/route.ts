import { NextResponse } from "next/server";
import { signedInUserId } from "@/lib/api-session";
import { getConfig } from "@/lib/config";
import { apiFailure, jsonRoute, parseJsonBody, unauthenticated } from "@/lib/http";
import { renewCurrentSession } from "@/lib/login";
import { requestContext } from "@/lib/request-context";
import { getAccountSettings } from "@/lib/runtime";
import { changePasswordSchema } from "@/lib/schemas";

export const POST = jsonRoute(async (request) => {
  const userId = await signedInUserId();
  if (!userId) return unauthenticated();
  const body = await parseJsonBody(request, changePasswordSchema(getConfig().passwordMinLength));
  if (!body.ok) return body.response;
  const result = await (await getAccountSettings()).changePassword(userId, body.data, requestContext(request.headers));
  if (!result.ok) return apiFailure(result);
  await renewCurrentSession(result.user);
  return NextResponse.json({ ok: true, message: "Your password was changed; every other session was signed out." });
});
