import type { Metadata } from "next";
import Link from "next/link";
import { logoutAction } from "@/app/(auth)/actions";
import { restartEnrolmentAction } from "@/app/admin/actions";
import { EnrollForm } from "./enroll-form";
import { AuthShell } from "@/components/auth-shell";
import { Alert } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { requireStaffForEnrolment } from "@/lib/staff/admin-access";
import { qrCodeSvg } from "@/lib/credentials/totp";

export const metadata: Metadata = { title: "Two-factor authentication" };

function LogOut({ label = "Log out" }: { label?: string }) {
  return (
    <form action={logoutAction} className="mt-6">
      <SubmitButton variant="secondary" pendingLabel="Logging out…" className="w-full">
        {label}
      </SubmitButton>
    </form>
  );
}

/**
 * Setting up the authenticator app that staff and admin accounts need before /admin opens: scan the QR
 * code (or type the secret), keep the recovery codes, confirm with a first code. The same secret and
 * codes are shown until confirmed; once it is on, only hashes of the codes remain.
 */
export default async function EnrollPage() {
  const { user, secondFactor, mfa } = await requireStaffForEnrolment();
  const status = await secondFactor.status(user.id);

  if (status.enabled) {
    return (
      <AuthShell title="Two-factor authentication" description={`For ${user.email}`}>
        {mfa ? (
          <>
            <Alert tone="success">Two-factor authentication is on. {status.recoveryCodesLeft} of 10 recovery codes left.</Alert>
            <p className="text-muted-foreground mt-4 text-sm">
              Lost your phone and your recovery codes? An operator can reset it with{" "}
              <code className="bg-muted rounded px-1">npm run create-admin -- --email … --reset-totp</code>.
            </p>
            <p className="mt-4 text-sm">
              <Link href="/admin" className="font-medium underline underline-offset-4">
                Go to the admin area
              </Link>
            </p>
          </>
        ) : (
          <>
            <Alert tone="info">
              Two-factor authentication is on for this account. Log in again with your password and a code from your app to open the admin area.
            </Alert>
            <LogOut label="Log out and log in again" />
          </>
        )}
      </AuthShell>
    );
  }

  if (!(await secondFactor.enrolmentCodes.isOutstanding(user.id))) {
    return (
      <AuthShell title="Set up two-factor authentication" description={`For ${user.email}`}>
        <Alert tone="info">
          Staff and admin accounts need an enrolment code from an operator to set up an authenticator app. None is waiting for this account (it was used, or it
          expired).
        </Alert>
        <p className="text-muted-foreground mt-4 text-sm">
          Ask an operator to run{" "}
          <code className="bg-muted rounded px-1">
            npm run create-admin -- --email {user.email} --role {user.role}
          </code>
          : it prints a new code for them to give you.
        </p>
        <LogOut />
      </AuthShell>
    );
  }

  // Started (once) on the first visit; a reload shows the same secret.
  const pending = (await secondFactor.pendingEnrolment(user))!;
  const qr = `data:image/svg+xml;base64,${Buffer.from(await qrCodeSvg(pending.uri)).toString("base64")}`;
  const groupedSecret = pending.secret.match(/.{1,4}/g)!.join(" ");

  return (
    <AuthShell
      title="Set up two-factor authentication"
      description="Staff and admin accounts need a code from an authenticator app (such as 1Password, Google Authenticator or Aegis) to open the admin area."
    >
      <ol className="list-decimal space-y-6 pl-5 text-sm">
        <li className="space-y-3">
          <p>Scan this QR code with the app.</p>
          {/* A data: image (allowed by the CSP's img-src): no request leaves the page with the secret. */}
          <img
            src={qr}
            width={192}
            height={192}
            alt="QR code to add this account to your authenticator app"
            className="border-border rounded-md border bg-white"
          />
          <p>
            Or type this key into the app:{" "}
            <code className="bg-muted rounded px-1 font-mono break-all" data-testid="totp-secret">
              {groupedSecret}
            </code>
          </p>
        </li>
        <li className="space-y-3">
          <p>
            Keep these recovery codes somewhere safe (a password manager or paper). Each works once, in place of a code from the app, if you lose your phone.
            They are not shown again once two-factor authentication is on.
          </p>
          <ul
            className="border-border bg-muted grid grid-cols-2 gap-1 rounded-md border p-3 font-mono"
            data-testid="recovery-codes"
            aria-label="Recovery codes"
          >
            {pending.recoveryCodes.map((code) => (
              <li key={code}>{code}</li>
            ))}
          </ul>
        </li>
        <li className="space-y-3">
          <p>Enter the enrolment code the operator gave you and the code the app shows now. Then log in again, with your password and a code from the app.</p>
          <EnrollForm />
        </li>
      </ol>
      <form action={restartEnrolmentAction} className="mt-6">
        <SubmitButton variant="link" pendingLabel="Starting over…">
          Start over with a new key
        </SubmitButton>
      </form>
    </AuthShell>
  );
}
