import type { Metadata } from "next";
import Link from "next/link";
import { logoutAction } from "@/app/(auth)/actions";
import { GuessingAlarmNotice } from "./guessing-alarm-notice";
import { MetricsPanel } from "./metrics-panel";
import { UsersTable } from "./users-table";
import { Alert } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { canManageUsers, parseUserListQuery } from "@/lib/staff/admin";
import { requireStaff } from "@/lib/staff/admin-access";
import { auditLogStats } from "@/lib/platform/audit";
import { getConfig } from "@/lib/platform/config";
import { entryFor, type SearchParams } from "@/lib/web/search-params";

export const metadata: Metadata = { title: "Admin" };

const RESULTS: Record<string, { tone: "success" | "error"; text: string }> = {
  role_changed: { tone: "success", text: "Role changed. That person's sessions end on their next request; they log in again with the new role." },
  deactivated: { tone: "success", text: "Account deactivated. Its sessions end on the next request and it can no longer log in." },
  reactivated: { tone: "success", text: "Account reactivated. The person can log in again." },
  signed_out: { tone: "success", text: "Signed out everywhere: every session of that account ends on its next request." },
  self: { tone: "error", text: "You cannot change your own role or deactivate your own account. Ask another admin." },
  not_allowed: { tone: "error", text: "Only admins can change accounts. Staff can look." },
  not_found: { tone: "error", text: "That account no longer exists." },
  unverified: { tone: "error", text: "That account's email is not verified yet: it cannot be made staff or reactivated." },
  unchanged: { tone: "error", text: "Nothing changed: the account already is that way." },
};

export default async function AdminPage({ searchParams }: { searchParams: SearchParams }) {
  const { user, secondFactor, administration, guessingAlarm: alarm, metrics } = await requireStaff();
  const params = await searchParams;
  const query = parseUserListQuery(params);
  const result = entryFor(RESULTS, params.result);
  const [page, day, week, factor, alarmOn] = await Promise.all([
    administration.list(query),
    metrics("24h"),
    metrics("7d"),
    secondFactor.status(user.id),
    alarm.isOn(),
  ]);
  const audit = auditLogStats();

  return (
    <div className="mx-auto w-full max-w-5xl space-y-10 px-4 py-8">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="space-y-1">
          <h1 className="text-2xl font-semibold tracking-tight">Admin</h1>
          <p className="text-muted-foreground text-sm">
            Signed in as {user.email} ({user.role}).{" "}
            {factor.recoveryCodesLeft <= 3 ? (
              <>
                Only {factor.recoveryCodesLeft} recovery code{factor.recoveryCodesLeft === 1 ? "" : "s"} left.{" "}
              </>
            ) : null}
            <Link href="/admin/enroll" className="underline underline-offset-4">
              Two-factor authentication
            </Link>
          </p>
        </div>
        <form action={logoutAction}>
          <SubmitButton variant="secondary" pendingLabel="Logging out…">
            Log out
          </SubmitButton>
        </form>
      </div>

      {result ? <Alert tone={result.tone}>{result.text}</Alert> : null}
      {audit && (audit.failed > 0 || audit.dropped > 0) ? (
        <Alert tone="error">
          Some auth events could not be recorded on this server instance ({audit.failed} failed, {audit.dropped} dropped): the numbers below may be low. Check
          the database connection.
        </Alert>
      ) : null}

      <GuessingAlarmNotice on={alarmOn} threshold={alarm.threshold} delayMs={getConfig().limits.codeFailureAlarmDelayMs} />
      <MetricsPanel day={day} week={week} />
      <UsersTable page={page} query={query} actorId={user.id} canManage={canManageUsers(user.role)} />
    </div>
  );
}
