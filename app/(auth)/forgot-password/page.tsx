import type { Metadata } from "next";
import Link from "next/link";
import { requestPasswordResetAction } from "@/app/(auth)/recovery-actions";
import { AuthShell } from "@/components/auth-shell";
import { FieldsForm } from "@/components/forms/fields-form";
import { emailFromParams, type SearchParams } from "@/lib/web/search-params";

export const metadata: Metadata = { title: "Reset your password" };

export default async function ForgotPasswordPage({ searchParams }: { searchParams: SearchParams }) {
  const email = emailFromParams(await searchParams);
  return (
    <AuthShell
      title="Reset your password"
      description="Enter your account's email address and we will send you a 6-digit code to choose a new password."
      footer={
        <Link href="/login" className="text-foreground font-medium underline underline-offset-4">
          Back to log in
        </Link>
      }
    >
      <FieldsForm
        schema="email"
        action={requestPasswordResetAction}
        fields={[{ name: "email", label: "Email", kind: "email", value: email }]}
        submitLabel="Send me a reset code"
        pendingLabel="Sending…"
        permalink="/forgot-password"
      />
    </AuthShell>
  );
}
