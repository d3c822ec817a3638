import { NextRequest } from "next/server";
import { handlers } from "@/lib/sessions/auth";
import { payloadTooLarge, readBodyWithin } from "@/lib/web/json-api";

export const { GET } = handlers;

/**
 * Logins go through lib/sessions/login.ts (the login action and POST /api/login), which ends the session the browser
 * came with; Auth.js's own callback for the Credentials providers would skip that, and the app never posts
 * to it (server-side signIn() calls Auth.js in-process, not through this route), so it is not served.
 * Auth.js reads its form bodies whole: they are read here first, within the same 16 kB cap as the JSON API.
 */
export async function POST(request: NextRequest): Promise<Response> {
  // Without the slash too: Auth.js also takes a bare /api/auth/callback as a callback (its provider missing).
  if (request.nextUrl.pathname.startsWith("/api/auth/callback")) {
    return Response.json({ error: { code: "not_found", message: "Not found." } }, { status: 404 });
  }
  const body = await readBodyWithin(request);
  if (body === null) return payloadTooLarge();
  return handlers.POST(new NextRequest(request.url, { method: "POST", headers: request.headers, body }));
}
