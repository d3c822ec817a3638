import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { signInWithCodeAction } from "@/app/(auth)/recovery-actions";
import { AuthShell } from "@/components/auth-shell";
import { FieldsForm } from "@/components/forms/fields-form";
import { getConfig } from "@/lib/platform/config";
import { emailFromParams, type SearchParams } from "@/lib/web/search-params";

export const metadata: Metadata = { title: "Enter your sign-in code" };

export default async function LoginCodeVerifyPage({ searchParams }: { searchParams: SearchParams }) {
  if (!getConfig().signInByCode) notFound();
  const email = emailFromParams(await searchParams);
  return (
    <AuthShell
      title="Enter your sign-in code"
      description={email ? `If ${email} can sign in with a code, one is on its way.` : "Enter the code from the email."}
      footer={
        <Link href={`/login-code${email ? `?email=${encodeURIComponent(email)}` : ""}`} className="text-foreground font-medium underline underline-offset-4">
          Send a new code
        </Link>
      }
    >
      <FieldsForm
        schema="emailAndCode"
        action={signInWithCodeAction}
        fields={[
          email ? { name: "email", label: "Email", kind: "hidden", value: email } : { name: "email", label: "Email", kind: "email" },
          { name: "otp", label: "Sign-in code", kind: "code" },
        ]}
        submitLabel="Sign in"
        pendingLabel="Signing in…"
      />
    </AuthShell>
  );
}
