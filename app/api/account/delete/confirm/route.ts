import { NextResponse } from "next/server";
import { currentSession } from "@/lib/sessions/current-session";
import { apiFailure, jsonRoute, parseJsonBody, unauthenticated } from "@/lib/web/json-api";
import { requestContext } from "@/lib/web/request-context";
import { getAccountData } from "@/lib/platform/runtime";
import { otpOnlySchema } from "@/lib/schemas";

/** Deletes the account with the mailed code: every session ends, this one too. */
export const POST = jsonRoute(async (request) => {
  const userId = (await currentSession())?.userId;
  if (!userId) return unauthenticated();
  const body = await parseJsonBody(request, otpOnlySchema);
  if (!body.ok) return body.response;
  const result = await (await getAccountData()).deleteAccount(userId, body.data.otp, requestContext(request.headers));
  if (result.ok) return NextResponse.json({ ok: true, message: "Your account was deleted." });
  if (result.reason === "last_admin") {
    return NextResponse.json(
      { error: { code: "last_admin", message: "You are the last admin: make someone else an admin before deleting this account." } },
      { status: 409 },
    );
  }
  return apiFailure(result as { reason: "wrong_code" | "expired" | "used" | "too_many_attempts" | "rate_limited"; retryAfterSeconds?: number });
});
