import type { Metadata } from "next";
import Link from "next/link";
import { resetPasswordAction } from "@/app/(auth)/recovery-actions";
import { AuthShell } from "@/components/auth-shell";
import { FieldsForm } from "@/components/forms/fields-form";
import { Alert } from "@/components/ui/alert";
import { getConfig } from "@/lib/platform/config";
import { emailFromParams, type SearchParams } from "@/lib/web/search-params";

export const metadata: Metadata = { title: "Choose a new password" };

export default async function ResetPasswordPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const email = emailFromParams(params);
  const { passwordMinLength } = getConfig();
  return (
    <AuthShell
      title="Choose a new password"
      description="Enter the code from the email and your new password. Every session signed in before will end."
      footer={
        <Link
          href={`/forgot-password${email ? `?email=${encodeURIComponent(email)}` : ""}`}
          className="text-foreground font-medium underline underline-offset-4"
        >
          Send a new code
        </Link>
      }
    >
      {params.sent === "1" ? (
        <Alert tone="success" className="mb-5">
          If {email || "that address"} has an account, a reset code is on its way.
        </Alert>
      ) : null}
      <FieldsForm
        schema="resetPassword"
        passwordMinLength={passwordMinLength}
        action={resetPasswordAction}
        fields={[
          email ? { name: "email", label: "Email", kind: "hidden", value: email } : { name: "email", label: "Email", kind: "email" },
          { name: "otp", label: "Reset code", kind: "code" },
          { name: "password", label: "New password", kind: "new-password", hint: `At least ${passwordMinLength} characters.` },
          { name: "passwordConfirmation", label: "Repeat new password", kind: "new-password" },
        ]}
        submitLabel="Change password"
        pendingLabel="Changing…"
      />
    </AuthShell>
  );
}
