import { NextResponse } from "next/server";
import { currentSession } from "@/lib/sessions/current-session";
import { apiFailure, jsonRoute, parseJsonBody, unauthenticated } from "@/lib/web/json-api";
import { requestContext } from "@/lib/web/request-context";
import { getAccountData } from "@/lib/platform/runtime";
import { passwordOnlySchema } from "@/lib/schemas";

/** Asks to delete the account: the password again; a code goes to the address. */
export const POST = jsonRoute(async (request) => {
  const userId = (await currentSession())?.userId;
  if (!userId) return unauthenticated();
  const body = await parseJsonBody(request, passwordOnlySchema);
  if (!body.ok) return body.response;
  const result = await (await getAccountData()).requestDeletion(userId, body.data.password, requestContext(request.headers));
  if (result.ok) return NextResponse.json({ ok: true, delivery: result.delivery });
  if (result.reason === "last_admin")
    return NextResponse.json(
      { error: { code: "last_admin", message: "You are the last admin: make someone else an admin before deleting this account." } },
      { status: 409 },
    );
  return apiFailure(result);
});
