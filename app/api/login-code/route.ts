import { NextResponse } from "next/server";
import { apiFailure, jsonRoute, parseJsonBody } from "@/lib/web/json-api";
import { requestContext } from "@/lib/web/request-context";
import { getRecovery } from "@/lib/platform/runtime";
import { emailOnlySchema } from "@/lib/schemas";

export const POST = jsonRoute(async (request) => {
  const body = await parseJsonBody(request, emailOnlySchema);
  if (!body.ok) return body.response;
  const result = await (await getRecovery()).requestSignInCode(body.data.email, requestContext(request.headers));
  if (!result.ok) return apiFailure(result);
  return NextResponse.json({ ok: true, message: "If that address can sign in with a code, one is on its way." });
});
