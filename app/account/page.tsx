import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { logoutAction } from "@/app/(auth)/actions";
import { AuthShell } from "@/components/auth-shell";
import { SubmitButton } from "@/components/ui/submit-button";
import { getDatabase } from "@/db/client";
import { findUserById } from "@/db/users";
import { auth } from "@/lib/auth";

export const metadata: Metadata = { title: "Your account" };

export default async function AccountPage() {
  const session = await auth();
  if (!session?.user?.id) redirect("/login");
  const user = await findUserById(await getDatabase(), session.user.id);
  if (!user) redirect("/login");

  const rows: Array<[string, string]> = [
    ["Name", user.name],
    ["Email", user.email],
    ["Role", user.role],
    ["Email verified", user.emailVerifiedAt ? formatTime(user.emailVerifiedAt) : "not yet"],
    ["Member since", formatTime(user.createdAt)],
  ];

  return (
    <AuthShell title="Your account" description="You are logged in.">
      <dl className="divide-y divide-border text-sm">
        {rows.map(([term, value]) => (
          <div key={term} className="grid grid-cols-3 gap-4 py-3">
            <dt className="text-muted-foreground">{term}</dt>
            <dd className="col-span-2 break-words font-medium" data-testid={`account-${term.toLowerCase().replace(/\s+/g, "-")}`}>
              {value}
            </dd>
          </div>
        ))}
      </dl>
      <form action={logoutAction} className="mt-6">
        <SubmitButton variant="secondary" pendingLabel="Logging out…" className="w-full">
          Log out
        </SubmitButton>
      </form>
    </AuthShell>
  );
}

function formatTime(date: Date): string {
  return `${date.toISOString().replace("T", " ").slice(0, 16)} UTC`;
}
