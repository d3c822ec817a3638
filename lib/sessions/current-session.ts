import "server-only";
import { decode } from "next-auth/jwt";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import type { Role } from "@/db/schema";
import { auth } from "./auth";
import { getConfig } from "../platform/config";
import { cookiePairs, sessionTokens } from "./session-cookie";

/** Who is signed in on this request: the user, the id of this session, and what the sign-in proved. */
export interface SignedIn {
  userId: string;
  sessionId: string;
  role: Role;
  /** The session was opened with a second factor. */
  mfa: boolean;
}

/**
 * The one way pages, server actions and API routes ask who is signed in (undefined: nobody). auth() has
 * checked the session (lifetimes, row, version); the session's id is read from the same cookie, and stays on
 * the server (it is not in Auth.js's session object, which the browser can fetch).
 */
export async function currentSession(): Promise<SignedIn | undefined> {
  const session = await auth();
  const userId = session?.user?.id;
  if (!userId) return undefined;
  const secret = getConfig().auth.secret;
  // From the raw header, repeats kept: Auth.js's reading of a repeated name (the first) comes first, so the id is
  // the session auth() checked, never another of the same person's cookies (Next's cookies() keep the last).
  for (const [salt, token] of sessionTokens(cookiePairs((await headers()).get("cookie")))) {
    const claims = await decode({ token, secret, salt }).catch(() => null);
    if (claims?.sub === userId && typeof claims.sid === "string") {
      return { userId, sessionId: claims.sid, role: session.user.role, mfa: session.user.mfa === true };
    }
  }
  // checkSession refuses a token without a sid, so this is a cookie auth() did not read: treat it as signed out.
  return undefined;
}

/** currentSession() for a page or a server action: nobody signed in goes to /login. */
export async function requireSession(): Promise<SignedIn> {
  const session = await currentSession();
  if (!session) redirect("/login");
  return session;
}
