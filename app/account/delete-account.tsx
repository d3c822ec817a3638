import { deleteAccountAction, requestDeletionAction } from "./ownership-actions";
import { FieldsForm } from "@/components/forms/fields-form";
import { Alert } from "@/components/ui/alert";

/** "Download my data", and deleting the account: the password, then a code mailed to the address. */
export function DeleteAccount({ codeSent }: { codeSent: boolean }) {
  return (
    <>
      <section id="my-data" aria-labelledby="my-data-heading" className="border-border mt-8 space-y-4 border-t pt-6">
        <h2 id="my-data-heading" className="text-lg font-semibold">
          Your data
        </h2>
        <p className="text-muted-foreground text-sm">Your profile, sessions and security events as a JSON file. It holds no password, key or code.</p>
        <a href="/api/account/export" download className="inline-block text-sm font-medium underline underline-offset-4">
          Download my data
        </a>
      </section>
      <section id="delete-account" aria-labelledby="delete-account-heading" className="border-border mt-8 space-y-4 border-t pt-6">
        <h2 id="delete-account-heading" className="text-lg font-semibold">
          Delete your account
        </h2>
        <p className="text-muted-foreground text-sm">This ends every session and removes your account for good. We email you a code to confirm.</p>
        {codeSent ? (
          <>
            <Alert tone="info">We emailed you a code. Enter it to delete your account.</Alert>
            <FieldsForm
              idPrefix="delete-code-"
              schema="code"
              action={deleteAccountAction}
              fields={[{ name: "otp", label: "Code from the email", kind: "code" }]}
              submitLabel="Delete my account for good"
              pendingLabel="Deleting…"
            />
          </>
        ) : (
          <FieldsForm
            idPrefix="delete-start-"
            schema="password"
            action={requestDeletionAction}
            fields={[{ name: "password", label: "Password", kind: "current-password" }]}
            submitLabel="Email me a code to delete my account"
            pendingLabel="Sending a code…"
          />
        )}
      </section>
    </>
  );
}
