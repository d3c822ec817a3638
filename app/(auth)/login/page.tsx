import type { Metadata } from "next";
import { AuthShell } from "@/components/auth-shell";
import { LoginForm } from "./login-form";
import { PasskeySignIn } from "./passkey-sign-in";
import { getConfig } from "@/lib/platform/config";
import { emailFromParams, type SearchParams } from "@/lib/web/search-params";

export const metadata: Metadata = { title: "Log in" };

export default async function LoginPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const notice =
    params.verified === "1"
      ? "Your email is verified and your account is active. Log in to continue."
      : params.signedOut === "1"
        ? "You have logged out."
        : params.reset === "1"
          ? "Your password was changed. Log in with the new one."
          : params.mfa === "on"
            ? "Two-factor authentication is on. Log in again with your password and a code from your app."
            : undefined;
  const email = emailFromParams(params);
  const emailQuery = email ? `?email=${encodeURIComponent(email)}` : "";

  return (
    <AuthShell
      title="Log in"
      footer={
        <>
          New here?{" "}
          <a href="/register" className="text-foreground font-medium underline underline-offset-4">
            Create an account
          </a>
        </>
      }
    >
      <LoginForm email={email} notice={notice} secondFactor={params.mfa === "on"} />
      <PasskeySignIn />
      <div className="mt-5 flex flex-wrap justify-between gap-3 text-sm">
        <a href={`/forgot-password${emailQuery}`} className="underline underline-offset-4">
          Forgot your password?
        </a>
        {getConfig().signInByCode ? (
          <a href={`/login-code${emailQuery}`} className="underline underline-offset-4">
            Email me a sign-in code
          </a>
        ) : null}
      </div>
    </AuthShell>
  );
}
