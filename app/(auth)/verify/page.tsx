import type { Metadata } from "next";
import { AuthShell } from "@/components/auth-shell";
import { VerifyForm } from "@/components/forms/verify-form";
import { getConfig } from "@/lib/config";
import { OUTCOMES, waitMessage } from "@/lib/outcomes";
import { emailSchema } from "@/lib/schemas";

export const metadata: Metadata = { title: "Confirm your email" };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function VerifyPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const parsed = emailSchema.safeParse(typeof params.email === "string" ? params.email : "");
  const email = parsed.success ? parsed.data : "";
  const cooldown = getConfig().codes.resendCooldownSeconds;
  const retryAfter = Number(params.retryAfter) || 0;

  const notice =
    params.delivery === "sent"
      ? { tone: "success" as const, text: "Check your inbox: a 6-digit code is on its way." }
      : params.delivery === "failed"
        ? { tone: "error" as const, text: OUTCOMES.mail_unavailable.message }
        : params.delivery === "wait"
          ? { tone: "info" as const, text: waitMessage(retryAfter) }
          : undefined;

  return (
    <AuthShell title="Confirm your email" description="Enter the 6-digit code from the email we sent you.">
      <VerifyForm
        email={email}
        notice={notice}
        cooldownSeconds={params.delivery === "sent" ? cooldown : params.delivery === "wait" ? retryAfter : 0}
      />
    </AuthShell>
  );
}
