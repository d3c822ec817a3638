import type { DefaultSession } from "next-auth";
import type { Role } from "@/db/schema";
import type { SessionDevice } from "./session-device";
import type { SessionClaims, SessionRenewalGrant } from "./sessions";

/* What this app adds to Auth.js's session, user and token types (lib/sessions/auth.ts fills them in). */

declare module "next-auth" {
  interface Session {
    user: { id: string; role: Role; mfa: boolean } & DefaultSession["user"];
    /** Only in updateSession()'s data, never in a session read: proof that this server renews the session (lib/sessions/login.ts). */
    renewFor?: SessionRenewalGrant;
  }
  interface User {
    role?: Role;
    sessionVersion?: number;
    /** A second factor was proven at this sign-in (lib/credentials/totp.ts); /admin requires it. */
    mfa?: boolean;
    /** Where this sign-in came from, for the session's row (lib/sessions/session-device.ts). */
    device?: SessionDevice;
  }
}

declare module "next-auth/jwt" {
  /** The session claims (lib/sessions/sessions.ts) ride in the token; a token from a cookie may lack any of them. */
  interface JWT extends Partial<SessionClaims> {
    role?: Role;
    mfa?: boolean;
  }
}
