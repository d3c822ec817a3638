import "server-only";
import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { getDatabase } from "@/db/client";
import { recordSessionVersion } from "@/db/session-list";
import type { Role } from "@/db/schema";
import { getConfig } from "../platform/config";
import { relyingParty } from "../credentials/passkey-relying-party";
import { getAccounts, getCodeStore, getPasskeys, getRecovery } from "../platform/runtime";
import { acceptSessionRenewal, checkSession, endSession, startSession } from "./sessions";
import { requestContext } from "../web/request-context";
import { sessionDevice } from "./session-device";
import { loginSchema, verifySchema as codeSignInSchema } from "../schemas";

function sessionUser(user: { id: string; email: string; name: string; role: Role; sessionVersion: number }) {
  return { id: user.id, email: user.email, name: user.name, role: user.role, sessionVersion: user.sessionVersion };
}

/**
 * A refused login, as it reaches the login action and API route: match on `code` (class names are
 * minified in production builds). lib/sessions/login.ts reads it back.
 */
class LoginRefused extends CredentialsSignin {
  constructor(result: { reason: string; retryAfterSeconds?: number }) {
    super();
    this.code = result.retryAfterSeconds ? `${result.reason}:${result.retryAfterSeconds}` : result.reason;
  }
}

/** An authenticator's answer is a few hundred bytes of JSON; anything far larger is not one. */
function parsePasskeyAnswer(value: unknown): unknown {
  if (typeof value !== "string" || value.length > 16_384) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed && typeof parsed === "object" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

// The configuration is built on first use, not at import time: `next build` imports this module.
export const {
  handlers,
  auth,
  signIn,
  signOut,
  unstable_update: updateSession,
} = NextAuth(() => {
  const config = getConfig();
  return {
    secret: config.auth.secret,
    trustHost: config.auth.trustHost,
    // The cookie lives as long as the idle timeout and is re-issued on activity; the absolute lifetime
    // is enforced from the login time in the token (lib/sessions/sessions.ts).
    session: { strategy: "jwt", maxAge: config.auth.sessionIdleTimeoutSeconds },
    // Known https (Vercel, an https AUTH_URL): Secure + __Host-. Otherwise Auth.js decides per request
    // from the protocol it sees (X-Forwarded-Proto behind a trusted proxy), never forced off.
    useSecureCookies: config.auth.secureCookies || undefined,
    cookies: config.auth.secureCookies
      ? { sessionToken: { name: "__Host-authjs.session-token", options: { httpOnly: true, sameSite: "lax", path: "/", secure: true } } }
      : undefined,
    // Auth.js's own error page answers 500 for a configuration error (a GET to a Credentials callback gets one).
    pages: { signIn: "/login", error: "/login" },
    providers: [
      Credentials({
        credentials: { email: {}, password: {}, totp: {} },
        async authorize(credentials, request) {
          const input = loginSchema.safeParse(credentials);
          if (!input.success) throw new LoginRefused({ reason: "invalid_credentials" });
          const result = await (await getAccounts()).authenticate(input.data, requestContext(request.headers));
          if (!result.ok) throw new LoginRefused(result);
          return { ...sessionUser(result.user), mfa: result.mfa, device: sessionDevice(request.headers) };
        },
      }),
      // Sign-in by an emailed code (SIGN_IN_BY_CODE=true; lib/accounts/recovery.ts decides who may).
      Credentials({
        id: "email-code",
        credentials: { email: {}, otp: {} },
        async authorize(credentials, request) {
          const input = codeSignInSchema.safeParse(credentials);
          if (!input.success) throw new LoginRefused({ reason: "wrong_code" });
          const result = await (await getRecovery()).signInWithCode(input.data, requestContext(request.headers));
          if (!result.ok) throw new LoginRefused(result);
          return { ...sessionUser(result.user), device: sessionDevice(request.headers) };
        },
      }),
      // A passkey (lib/credentials/passkeys.ts): the browser's signed answer, as JSON. With user verification required it is
      // a multi-factor authenticator by itself, so the session counts as opened with the second factor.
      Credentials({
        id: "passkey",
        credentials: { response: {} },
        async authorize(credentials, request) {
          const response = parsePasskeyAnswer(credentials?.response);
          const rp = relyingParty(config, request.headers);
          if (!response || !rp) throw new LoginRefused({ reason: "invalid_credentials" });
          const result = await (await getPasskeys()).signIn(response, rp, requestContext(request.headers));
          if (!result.ok) throw new LoginRefused(result);
          return { ...sessionUser(result.user), mfa: result.mfa, device: sessionDevice(request.headers) };
        },
      }),
    ],
    callbacks: {
      async jwt({ token, user, trigger, session }) {
        const now = Date.now();
        const db = await getDatabase();
        if (user) {
          // Signing in: the login time, a session id and the user's session version travel in the token.
          const claims = await startSession(db, { id: user.id!, sessionVersion: user.sessionVersion ?? 0 }, now, user.device);
          return { ...token, role: user.role, mfa: user.mfa === true, ...claims };
        }
        const deps = { db, store: await getCodeStore(), config: config.auth };
        const renewal = trigger === "update" ? acceptSessionRenewal(config.auth.secret, session?.renewFor, now) : undefined;
        if (renewal && renewal.userId === token.sub) {
          // Right after this person changed their own password or email (a grant only this server can
          // make): this session carries on under the new version while every other one ends. The
          // deny-list and lifetimes still apply.
          const renewed = { ...token, sv: renewal.sessionVersion, email: renewal.email };
          if ((await checkSession(deps, renewed, now)) !== "ok") return null;
          // Its row follows, so the owner's list of sessions still shows it.
          await recordSessionVersion(db, String(token.sid), token.sub, renewal.sessionVersion);
          return { ...renewed, lastSeen: now };
        }
        if ((await checkSession(deps, token, now)) !== "ok") return null;
        return { ...token, lastSeen: now };
      },
      session({ session, token }) {
        session.user.id = token.sub!;
        if (token.role) session.user.role = token.role;
        session.user.mfa = token.mfa === true;
        return session;
      },
    },
    events: {
      async signOut(message) {
        const token = "token" in message ? message.token : null;
        if (!token) return;
        const deps = { db: await getDatabase(), store: await getCodeStore(), config: config.auth };
        await endSession(deps, token, Date.now());
      },
    },
    logger: {
      // A wrong password is an ordinary outcome, not an error worth a stack trace.
      error(error: Error) {
        if (error instanceof CredentialsSignin || (error as { type?: string }).type === "CredentialsSignin") return;
        console.error(JSON.stringify({ event: "auth_error", type: (error as { type?: string }).type ?? error.name }));
      },
    },
  };
});
