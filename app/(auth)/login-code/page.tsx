import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { requestSignInCodeAction } from "@/app/(auth)/recovery-actions";
import { AuthShell } from "@/components/auth-shell";
import { FieldsForm } from "@/components/forms/fields-form";
import { getConfig } from "@/lib/platform/config";
import { emailFromParams, type SearchParams } from "@/lib/web/search-params";

export const metadata: Metadata = { title: "Sign in with a code" };

export default async function LoginCodePage({ searchParams }: { searchParams: SearchParams }) {
  if (!getConfig().signInByCode) notFound();
  return (
    <AuthShell
      title="Sign in with a code"
      description="We will email you a 6-digit code that signs you in. Available for verified customer accounts."
      footer={
        <Link href="/login" className="text-foreground font-medium underline underline-offset-4">
          Log in with your password instead
        </Link>
      }
    >
      <FieldsForm
        schema="email"
        action={requestSignInCodeAction}
        fields={[{ name: "email", label: "Email", kind: "email", value: emailFromParams(await searchParams) }]}
        submitLabel="Email me a sign-in code"
        pendingLabel="Sending…"
      />
    </AuthShell>
  );
}
