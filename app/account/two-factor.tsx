import { confirmTotpAction, disableTotpAction, startTotpAction } from "./ownership-actions";
import { FieldsForm } from "@/components/forms/fields-form";
import { Alert } from "@/components/ui/alert";
import type { PendingEnrolment, SecondFactorStatus } from "@/lib/credentials/totp";
import { qrCodeSvg } from "@/lib/credentials/totp";
import { entryFor } from "@/lib/web/search-params";

const NOTICES: Record<string, string> = {
  started: "We emailed you a code. Set up your app, then enter its code and the emailed one.",
  on: "Two-factor authentication is on. Logging in with your password now also asks for a code from your app.",
  off: "Two-factor authentication is off.",
};

/** A customer's authenticator app: turned on with the password, the app's code and a code mailed to the address. */
export async function TwoFactor({ status, pending, notice }: { status: SecondFactorStatus; pending?: PendingEnrolment; notice?: string }) {
  const shown = entryFor(NOTICES, notice);
  return (
    <section id="two-factor" aria-labelledby="two-factor-heading" className="border-border mt-8 space-y-4 border-t pt-6">
      <h2 id="two-factor-heading" className="text-lg font-semibold">
        Two-factor authentication
      </h2>
      {shown ? <Alert tone="success">{shown}</Alert> : null}
      {status.enabled ? (
        <>
          <p className="text-sm" data-testid="two-factor-status">
            On. {status.recoveryCodesLeft} of 10 recovery codes left.
          </p>
          <FieldsForm
            idPrefix="disable-totp-"
            schema="disableTotp"
            action={disableTotpAction}
            fields={[
              { name: "password", label: "Password", kind: "current-password" },
              { name: "code", label: "Code from your app (or a recovery code)", kind: "text" },
            ]}
            submitLabel="Turn off two-factor authentication"
            pendingLabel="Turning off…"
          />
        </>
      ) : pending ? (
        <Enrolment pending={pending} />
      ) : (
        <>
          <p className="text-muted-foreground text-sm">Off. With it on, logging in with your password also asks for a code from an authenticator app.</p>
          <FieldsForm
            idPrefix="totp-start-"
            schema="password"
            action={startTotpAction}
            fields={[{ name: "password", label: "Password", kind: "current-password" }]}
            submitLabel="Turn on two-factor authentication"
            pendingLabel="Sending a code…"
          />
        </>
      )}
    </section>
  );
}

async function Enrolment({ pending }: { pending: PendingEnrolment }) {
  const qr = `data:image/svg+xml;base64,${Buffer.from(await qrCodeSvg(pending.uri)).toString("base64")}`;
  return (
    <div className="space-y-4 text-sm">
      <p>1. Scan this QR code with your authenticator app, or type the key.</p>
      {/* eslint-disable-next-line @next/next/no-img-element */}
      <img src={qr} alt="QR code for your authenticator app" width={180} height={180} className="border-border rounded border bg-white" />
      <p>
        Key:{" "}
        <code className="bg-muted rounded px-1 break-all" data-testid="totp-secret">
          {pending.secret.match(/.{1,4}/g)!.join(" ")}
        </code>
      </p>
      <p>2. Keep these recovery codes somewhere safe. Each works once if you lose your phone.</p>
      <ul className="grid grid-cols-2 gap-1 font-mono" data-testid="recovery-codes">
        {pending.recoveryCodes.map((c) => (
          <li key={c}>{c}</li>
        ))}
      </ul>
      <p>3. Enter a code from the app and the code we emailed you.</p>
      <FieldsForm
        idPrefix="totp-confirm-"
        schema="enableTotp"
        action={confirmTotpAction}
        fields={[
          { name: "code", label: "Code from your app", kind: "code" },
          { name: "emailCode", label: "Code from the email", kind: "code" },
        ]}
        submitLabel="Turn on"
        pendingLabel="Checking…"
      />
      <details>
        <summary className="cursor-pointer">No email? Send a new code</summary>
        <FieldsForm
          idPrefix="totp-resend-"
          schema="password"
          action={startTotpAction}
          fields={[{ name: "password", label: "Password", kind: "current-password" }]}
          submitLabel="Send a new code"
          pendingLabel="Sending…"
        />
      </details>
    </div>
  );
}
