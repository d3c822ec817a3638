import "server-only";
import { decode } from "next-auth/jwt";
import { cookies } from "next/headers";
import { auth } from "./auth";
import { getConfig } from "../platform/config";
import { sessionTokens } from "./session-cookie";

/**
 * The signed-in user and the id of the session this request came with. auth() has checked the session
 * (lifetimes, row, version); the id is read from the same cookie, and stays on the server (it is not in
 * Auth.js's session object, which the browser can fetch).
 */
export async function currentSession(): Promise<{ userId: string; sessionId: string } | undefined> {
  const session = await auth();
  const userId = session?.user?.id;
  if (!userId) return undefined;
  const secret = getConfig().auth.secret;
  for (const [salt, token] of sessionTokens((await cookies()).getAll())) {
    const claims = await decode({ token, secret, salt }).catch(() => null);
    if (claims?.sub === userId && typeof claims.sid === "string") return { userId, sessionId: claims.sid };
  }
  // checkSession refuses a token without a sid, so this is a cookie auth() did not read: treat it as signed out.
  return undefined;
}
