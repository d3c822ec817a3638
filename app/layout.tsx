import type { Metadata, Viewport } from "next";
import { cookies } from "next/headers";
import { connection } from "next/server";
import type { ReactNode } from "react";
import { hasSessionCookie } from "@/lib/sessions/session-cookie";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Verified Signup", template: "%s · Verified Signup" },
  description: "Sign up, confirm your email with a 6-digit code, and log in.",
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  colorScheme: "light dark",
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#fafafa" },
    { media: "(prefers-color-scheme: dark)", color: "#09090b" },
  ],
};

/*
 * Plain <a> links, not next/link: every page here is rendered per request anyway, and next/link's
 * client router code would add about 6 kB gzip to the first load of every page (see `npm run size`).
 */
export default async function RootLayout({ children }: { children: ReactNode }) {
  // Rendered per request: the CSP nonce (proxy.ts) is new each time, and Next puts it on its scripts.
  await connection();
  // Only navigation: a session cookie shows the account link (the account page itself checks the session),
  // which spares every page a session lookup.
  const signedIn = hasSessionCookie((await cookies()).getAll().map((cookie) => cookie.name));
  return (
    <html lang="en">
      <body className="flex min-h-dvh flex-col font-sans">
        <header className="border-border bg-card/60 border-b">
          <div className="mx-auto flex h-14 max-w-5xl items-center justify-between gap-2 px-3 sm:px-4">
            <a href="/" className="flex items-center gap-2 font-semibold tracking-tight whitespace-nowrap">
              <span aria-hidden="true" className="bg-primary text-primary-foreground grid size-6 place-items-center rounded-md text-xs">
                ✓
              </span>
              Verified Signup
            </a>
            <nav aria-label="Main" className="flex items-center text-sm sm:gap-1">
              {signedIn ? (
                <a href="/account" className="hover:bg-muted rounded-md px-2 py-2 font-medium whitespace-nowrap sm:px-3">
                  Your account
                </a>
              ) : (
                <>
                  <a href="/login" className="hover:bg-muted rounded-md px-2 py-2 font-medium whitespace-nowrap sm:px-3">
                    Log in
                  </a>
                  <a href="/register" className="hover:bg-muted rounded-md px-2 py-2 font-medium whitespace-nowrap sm:px-3">
                    Sign up
                  </a>
                </>
              )}
            </nav>
          </div>
        </header>
        <main className="flex flex-1 flex-col">{children}</main>
      </body>
    </html>
  );
}
