import type { Metadata } from "next";
import { AuthShell } from "@/components/auth-shell";
import { deliveryNotice, type VerifyNotice } from "./delivery-notice";
import { VerifyForm } from "./verify-form";
import type { DeliveryState } from "@/lib/mail/delivery-queue";
import { getConfig } from "@/lib/platform/config";
import { OUTCOMES, waitMessage } from "@/lib/web/outcomes";
import { registrationFromCookie } from "@/lib/accounts/registration-cookie";
import { getAccounts } from "@/lib/platform/runtime";
import { emailFromParams, type SearchParams } from "@/lib/web/search-params";

export const metadata: Metadata = { title: "Confirm your email" };

/** "10 minutes", "1 minute", "90 seconds": how long a code works, from the server's config. */
function inWords(seconds: number): string {
  if (seconds % 60 !== 0 && seconds < 600) return `${seconds} seconds`;
  const minutes = Math.round(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/** Whether this browser holds the registration token of a pending signup for the address. */
async function signupIsFromThisBrowser(email: string): Promise<boolean> {
  const token = await registrationFromCookie();
  if (!token) return false;
  try {
    return await (await getAccounts()).isPendingSignup(email, token);
  } catch {
    // The store is out: checking the code fails too, and says so; show the plain form meanwhile.
    return true;
  }
}

async function deliveryState(email: string): Promise<DeliveryState | undefined> {
  try {
    return await (await getAccounts()).deliveryStatus(email, "verify_email");
  } catch {
    return undefined; // the store is out: the page says what the redirect said
  }
}

export default async function VerifyPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const email = emailFromParams(params);
  const { resendCooldownSeconds, ttlSeconds } = getConfig().codes;
  const retryAfter = Math.max(0, Math.ceil(Number(params.retryAfter) || 0));

  // The delivery queue's state for this address wins over what the redirect said: a refresh shows how it went.
  const delivery = email ? await deliveryState(email) : undefined;
  const notice: VerifyNotice | undefined =
    params.delivery === "wait" && delivery !== "failed"
      ? { tone: "info", text: waitMessage(retryAfter, "asking for another code") }
      : delivery
        ? deliveryNotice(delivery)
        : params.delivery === "sent"
          ? deliveryNotice("sent")
          : params.delivery === "failed"
            ? { tone: "error", text: OUTCOMES.mail_unavailable.message }
            : undefined;

  const choosing = email ? !(await signupIsFromThisBrowser(email)) : false;

  return (
    <AuthShell title="Confirm your email" description="Enter the 6-digit code from the email we sent you.">
      <VerifyForm
        choosing={choosing}
        passwordMinLength={getConfig().passwordMinLength}
        email={email}
        notice={notice}
        delivery={delivery}
        cooldownSeconds={
          delivery === "failed"
            ? 0
            : params.delivery === "sent" || params.delivery === "sending"
              ? resendCooldownSeconds
              : params.delivery === "wait"
                ? retryAfter
                : 0
        }
        codeValidity={inWords(ttlSeconds)}
      />
    </AuthShell>
  );
}
