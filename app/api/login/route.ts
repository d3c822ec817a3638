import { NextResponse } from "next/server";
import { apiFailure, jsonRoute, parseJsonBody } from "@/lib/web/json-api";
import { signInWithPassword } from "@/lib/sessions/login";
import { loginSchema } from "@/lib/schemas";

export const POST = jsonRoute(async (request) => {
  const body = await parseJsonBody(request, loginSchema);
  if (!body.ok) return body.response;
  const result = await signInWithPassword(body.data);
  if (!result.ok) return apiFailure(result);
  return NextResponse.json({ ok: true, message: "Logged in." });
});
