import { NextResponse } from "next/server";
import { getConfig } from "@/lib/platform/config";
import { apiFailure, jsonRoute, parseJsonBody, publicUser } from "@/lib/web/json-api";
import { signInWithPassword } from "@/lib/sessions/login";
import { requestContext } from "@/lib/web/request-context";
import { getAccounts } from "@/lib/platform/runtime";
import { verifyInputSchema } from "@/lib/schemas";

/** The code with `registration` (from POST /api/register), or with the `name` and `password` to choose now. */
export const POST = jsonRoute(async (request) => {
  const body = await parseJsonBody(request, verifyInputSchema(getConfig().passwordMinLength));
  if (!body.ok) return body.response;
  const result = await (await getAccounts()).verifyEmail(body.data, requestContext(request.headers));
  if (!result.ok) return apiFailure(result);
  // The password was chosen by whoever proved the inbox, just now: they are signed in with it.
  const signedIn = result.signIn && body.data.password ? (await signInWithPassword({ email: body.data.email, password: body.data.password })).ok : false;
  return NextResponse.json({
    ok: true,
    message: signedIn ? "Your email is verified and you are signed in." : "Your email is verified. You can log in now.",
    signedIn,
    user: publicUser(result.user),
  });
});
