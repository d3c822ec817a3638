import { NextResponse } from "next/server";
import { apiFailure, jsonRoute, parseJsonBody, publicUser } from "@/lib/http";
import { requestContext } from "@/lib/request-context";
import { getAccounts } from "@/lib/runtime";
import { verifySchema } from "@/lib/schemas";

export const POST = jsonRoute(async (request) => {
  const body = await parseJsonBody(request, verifySchema);
  if (!body.ok) return body.response;
  const result = await (await getAccounts()).verifyEmail(body.data, requestContext(request.headers));
  if (!result.ok) return apiFailure(result);
  return NextResponse.json({ ok: true, message: "Your email is verified. You can log in now.", user: publicUser(result.user) });
});
