import { NextResponse } from "next/server";
import { getConfig } from "@/lib/platform/config";
import { apiError, apiFailure, jsonRoute, parseJsonBody } from "@/lib/web/json-api";
import { requestContext } from "@/lib/web/request-context";
import { getAccounts } from "@/lib/platform/runtime";
import { registerSchema } from "@/lib/schemas";

/**
 * `registration` proves, with the emailed code, that the verifier made this signup: send it to
 * POST /api/verify-otp. Without it the verifier chooses the name and password there.
 */
export const POST = jsonRoute(async (request) => {
  const body = await parseJsonBody(request, registerSchema(getConfig().passwordMinLength));
  if (!body.ok) return body.response;
  const result = await (await getAccounts()).register(body.data, requestContext(request.headers));
  if (!result.ok) return apiFailure(result);
  if (result.delivery === "failed") return apiError("mail_unavailable");
  if (result.delivery === "wait") {
    return NextResponse.json(
      {
        ok: true,
        email: result.email,
        registration: result.registration,
        delivery: "wait",
        retryAfterSeconds: result.retryAfterSeconds,
        message: `A code was sent to this address moments ago and still works. You can ask for another in ${result.retryAfterSeconds} s.`,
      },
      { status: 201, headers: { "Retry-After": String(result.retryAfterSeconds) } },
    );
  }
  return NextResponse.json(
    {
      ok: true,
      email: result.email,
      registration: result.registration,
      // "sending": queued; GET /api/delivery?email= tells when it is sent, or that it could not be.
      delivery: result.delivery,
      message: "Check your email for a 6-digit code to activate your account.",
    },
    { status: 201 },
  );
});
