import { NextResponse } from "next/server";
import { apiError, apiFailure, jsonRoute, parseJsonBody } from "@/lib/web/json-api";
import { requestContext } from "@/lib/web/request-context";
import { getAccounts } from "@/lib/platform/runtime";
import { resendSchema } from "@/lib/schemas";

export const POST = jsonRoute(async (request) => {
  const body = await parseJsonBody(request, resendSchema);
  if (!body.ok) return body.response;
  const result = await (await getAccounts()).resendCode(body.data.email, requestContext(request.headers));
  if (!result.ok) return apiFailure(result);
  if (result.delivery === "failed") return apiError("mail_unavailable");
  return NextResponse.json({ ok: true, message: "If that address has an account waiting for verification, a new code is on its way." });
});
