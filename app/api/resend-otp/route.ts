import { NextResponse } from "next/server";
import { apiError, jsonRoute, parseJsonBody } from "@/lib/http";
import { waitMessage } from "@/lib/outcomes";
import { getAccounts } from "@/lib/runtime";
import { resendSchema } from "@/lib/schemas";

export const POST = jsonRoute(async (request) => {
  const body = await parseJsonBody(request, resendSchema);
  if (!body.ok) return body.response;
  const result = await (await getAccounts()).resendCode(body.data.email);
  if (!result.ok) {
    return apiError("rate_limited", { message: waitMessage(result.retryAfterSeconds), retryAfterSeconds: result.retryAfterSeconds });
  }
  if (result.delivery === "failed") return apiError("mail_unavailable");
  return NextResponse.json({ ok: true, message: "If that address has an account waiting for verification, a new code is on its way." });
});
