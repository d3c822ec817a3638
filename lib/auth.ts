import NextAuth, { CredentialsSignin, type DefaultSession } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { getDatabase } from "@/db/client";
import type { Role } from "@/db/schema";
import { findUserById } from "@/db/users";
import { getConfig } from "./config";
import { getAccounts } from "./runtime";
import { requestContext } from "./request-context";
import { loginSchema } from "./schemas";

declare module "next-auth" {
  interface Session {
    user: { id: string; role: Role } & DefaultSession["user"];
  }
  interface User {
    role?: Role;
    sessionVersion?: number;
  }
}

/**
 * A refused login, as it reaches the login action and API route: match on `code` (class names are
 * minified in production builds). lib/login.ts reads it back.
 */
class LoginRefused extends CredentialsSignin {
  constructor(result: { reason: string; retryAfterSeconds?: number }) {
    super();
    this.code = result.retryAfterSeconds ? `${result.reason}:${result.retryAfterSeconds}` : result.reason;
  }
}

// The configuration is built on first use, not at import time: `next build` imports this module.
export const { handlers, auth, signIn, signOut } = NextAuth(() => {
  const config = getConfig();
  return {
    secret: config.auth.secret,
    trustHost: config.auth.trustHost,
    session: { strategy: "jwt" },
    pages: { signIn: "/login" },
    providers: [
      Credentials({
        credentials: { email: {}, password: {} },
        async authorize(credentials, request) {
          const input = loginSchema.safeParse(credentials);
          if (!input.success) throw new LoginRefused({ reason: "invalid_credentials" });
          const result = await (await getAccounts()).authenticate(input.data, requestContext(request.headers));
          if (!result.ok) throw new LoginRefused(result);
          const { user } = result;
          return { id: user.id, email: user.email, name: user.name, role: user.role, sessionVersion: user.sessionVersion };
        },
      }),
    ],
    callbacks: {
      async jwt({ token, user }) {
        if (user) {
          // Signing in: the login time and the user's session version travel in the token.
          return { ...token, sub: user.id, role: user.role, sv: user.sessionVersion ?? 0, authTime: Date.now() };
        }
        // Every later read re-checks the account, so deactivation, role changes and "sign out everywhere"
        // take effect on the next request.
        if (!token.sub) return null;
        const current = await findUserById(await getDatabase(), token.sub);
        if (!current || !current.isActive || current.sessionVersion !== token.sv) return null;
        return { ...token, role: current.role, name: current.name, email: current.email };
      },
      session({ session, token }) {
        session.user.id = token.sub!;
        session.user.role = token.role as Role;
        return session;
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
