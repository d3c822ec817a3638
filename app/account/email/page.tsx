import type { Metadata } from "next";
import Link from "next/link";
import { confirmEmailChangeAction } from "@/app/account/actions";
import { AuthShell } from "@/components/auth-shell";
import { FieldsForm } from "@/components/forms/fields-form";
import { requireSession } from "@/lib/sessions/current-session";
import { emailFromParams, type SearchParams } from "@/lib/web/search-params";

export const metadata: Metadata = { title: "Confirm your new email" };

export default async function ConfirmEmailChangePage({ searchParams }: { searchParams: SearchParams }) {
  await requireSession();
  const to = emailFromParams(await searchParams, "to");
  return (
    <AuthShell
      title="Confirm your new email"
      description={`We sent a 6-digit code to ${to || "the new address"}. Your login email changes once you enter it; until then nothing changes.`}
      footer={
        <Link href="/account" className="text-foreground font-medium underline underline-offset-4">
          Back to your account
        </Link>
      }
    >
      <FieldsForm
        schema="code"
        action={confirmEmailChangeAction}
        fields={[{ name: "otp", label: "Code", kind: "code" }]}
        submitLabel="Confirm new email"
        pendingLabel="Checking…"
      />
    </AuthShell>
  );
}
