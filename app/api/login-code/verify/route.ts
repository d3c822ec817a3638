import { NextResponse } from "next/server";
import { apiFailure, jsonRoute, parseJsonBody } from "@/lib/web/json-api";
import { signInWithEmailCode } from "@/lib/sessions/login";
import { verifySchema } from "@/lib/schemas";

export const POST = jsonRoute(async (request) => {
  const body = await parseJsonBody(request, verifySchema);
  if (!body.ok) return body.response;
  const result = await signInWithEmailCode(body.data);
  if (!result.ok) return apiFailure(result);
  return NextResponse.json({ ok: true, message: "Signed in." });
});
