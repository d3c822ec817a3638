import { NextResponse } from "next/server";
import { getConfig } from "@/lib/platform/config";
import { apiFailure, jsonRoute, parseJsonBody, publicUser } from "@/lib/web/json-api";
import { requestContext } from "@/lib/web/request-context";
import { getRecovery } from "@/lib/platform/runtime";
import { resetPasswordSchema } from "@/lib/schemas";

export const POST = jsonRoute(async (request) => {
  const body = await parseJsonBody(request, resetPasswordSchema(getConfig().passwordMinLength));
  if (!body.ok) return body.response;
  const result = await (await getRecovery()).resetPassword(body.data, requestContext(request.headers));
  if (!result.ok) return apiFailure(result);
  return NextResponse.json({ ok: true, message: "Your password was changed and every session signed out.", user: publicUser(result.user) });
});
