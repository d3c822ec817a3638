import { NextResponse } from "next/server";
import { getConfig } from "@/lib/config";
import { apiError, apiFailure, jsonRoute, parseJsonBody } from "@/lib/http";
import { requestContext } from "@/lib/request-context";
import { getAccounts } from "@/lib/runtime";
import { registerSchema } from "@/lib/schemas";

export const POST = jsonRoute(async (request) => {
  const body = await parseJsonBody(request, registerSchema(getConfig().passwordMinLength));
  if (!body.ok) return body.response;
  const result = await (await getAccounts()).register(body.data, requestContext(request.headers));
  if (!result.ok) return apiFailure(result);
  if (result.delivery === "failed") return apiError("mail_unavailable");
  return NextResponse.json(
    { ok: true, email: result.email, message: "Check your email for a 6-digit code to activate your account." },
    { status: 201 },
  );
});
