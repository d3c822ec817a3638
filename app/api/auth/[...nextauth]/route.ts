import type { NextRequest } from "next/server";
import { handlers } from "@/lib/auth";

export const { GET } = handlers;

/**
 * Logins go through lib/login.ts (the login action and POST /api/login), which ends the session the browser
 * came with; Auth.js's own callback for the Credentials providers would skip that, and the app never posts
 * to it (server-side signIn() calls Auth.js in-process, not through this route), so it is not served.
 */
export function POST(request: NextRequest) {
  if (request.nextUrl.pathname.startsWith("/api/auth/callback/")) {
    return Response.json({ error: { code: "not_found", message: "Not found." } }, { status: 404 });
  }
  return handlers.POST(request);
}
