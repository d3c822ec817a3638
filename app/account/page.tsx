import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { logoutAction } from "@/app/(auth)/actions";
import { PasskeyOffer, PasskeysSection } from "./passkeys";
import { AccountSettings } from "./account-settings";
import { SessionsList } from "./sessions-list";
import { DeleteAccount } from "./delete-account";
import { TwoFactor } from "./two-factor";
import { AuthShell } from "@/components/auth-shell";
import { Alert } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { NO_PASSWORD } from "@/db/schema";
import { getConfig } from "@/lib/platform/config";
import { requireSession } from "@/lib/sessions/current-session";
import { getAccountSettings, getOwnSecondFactor, getSessionList } from "@/lib/platform/runtime";
import { passkeyItems, passkeyNotice } from "@/lib/web/passkey-page";
import { entryFor, type SearchParams } from "@/lib/web/search-params";

export const metadata: Metadata = { title: "Your account" };

const CHANGED: Record<string, string> = {
  password: "Your password was changed. Every other session was signed out.",
  email: "Your login email was changed. Every other session was signed out.",
};

export default async function AccountPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const notice = entryFor(CHANGED, params.changed);
  const session = await requireSession();
  const user = await (await getAccountSettings()).account(session.userId);
  if (!user) redirect("/login");
  const hasPassword = user.passwordHash !== NO_PASSWORD;
  const sessions = await (await getSessionList()).list(user.id, session.sessionId, Date.now());

  const passkeys = await passkeyItems(user.id);

  const rows: Array<[string, string]> = [
    ["Name", user.name],
    ["Email", user.email],
    ["Role", user.role],
    ["Email verified", user.emailVerifiedAt ? formatTime(user.emailVerifiedAt) : "not yet"],
    ["Member since", formatTime(user.createdAt)],
  ];

  return (
    <AuthShell title="Your account" description="You are logged in.">
      {notice ? (
        <Alert tone="success" className="mb-4">
          {notice}
        </Alert>
      ) : null}
      {passkeys.offer ? <PasskeyOffer /> : null}
      <dl className="divide-border divide-y text-sm">
        {rows.map(([term, value]) => (
          <div key={term} className="grid grid-cols-3 gap-4 py-3">
            <dt className="text-muted-foreground">{term}</dt>
            <dd className="col-span-2 font-medium break-words" data-testid={`account-${term.toLowerCase().replace(/\s+/g, "-")}`}>
              {value}
            </dd>
          </div>
        ))}
      </dl>
      {user.role !== "customer" ? (
        <p className="mt-6 text-sm">
          <Link href="/admin" className="font-medium underline underline-offset-4">
            Open the admin area
          </Link>
        </p>
      ) : null}
      <form action={logoutAction} className="mt-6">
        <SubmitButton variant="secondary" pendingLabel="Logging out…" className="w-full">
          Log out
        </SubmitButton>
      </form>
      <PasskeysSection passkeys={passkeys.items} notice={passkeyNotice(params.passkey)} />
      <AccountSettings passwordMinLength={getConfig().passwordMinLength} hasPassword={hasPassword} />
      <SessionsList
        sessions={sessions}
        notice={typeof params.sessions === "string" ? params.sessions : undefined}
        ending={typeof params.end === "string" ? params.end : undefined}
        hasPassword={hasPassword}
      />
      {user.role === "customer" ? (
        <TwoFactor
          status={await (await getOwnSecondFactor()).status(user.id)}
          pending={await (await getOwnSecondFactor()).pending(user.id)}
          notice={typeof params.twofactor === "string" ? params.twofactor : undefined}
        />
      ) : null}
      <DeleteAccount codeSent={params.delete === "sent"} />
    </AuthShell>
  );
}

function formatTime(date: Date): string {
  return `${date.toISOString().replace("T", " ").slice(0, 16)} UTC`;
}
