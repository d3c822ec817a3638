import { changePasswordAction, requestEmailChangeAction } from "./actions";
import { FieldsForm } from "@/components/forms/fields-form";

/**
 * The signed-in person's own changes: password, and login email (proven by a code). An account that has
 * no password yet (it was confirmed by a code alone) chooses its first one without a current one.
 */
export function AccountSettings({ passwordMinLength, hasPassword }: { passwordMinLength: number; hasPassword: boolean }) {
  return (
    <div className="border-border mt-8 space-y-8 border-t pt-6">
      <section aria-labelledby="change-password-heading" className="space-y-4">
        <h2 id="change-password-heading" className="text-lg font-semibold">
          {hasPassword ? "Change password" : "Choose a password"}
        </h2>
        {hasPassword ? null : <p className="text-muted-foreground text-sm">Your address is confirmed. Choose a password to log in with from now on.</p>}
        <FieldsForm
          schema={hasPassword ? "changePassword" : "choosePassword"}
          passwordMinLength={passwordMinLength}
          action={changePasswordAction}
          fields={[
            ...(hasPassword ? [{ name: "currentPassword", label: "Current password", kind: "current-password" as const }] : []),
            { name: "newPassword", label: "New password", kind: "new-password", hint: `At least ${passwordMinLength} characters.` },
            { name: "passwordConfirmation", label: "Repeat new password", kind: "new-password" },
          ]}
          submitLabel={hasPassword ? "Change password" : "Save password"}
          pendingLabel="Saving…"
        />
      </section>
      <section aria-labelledby="change-email-heading" className="space-y-4">
        <h2 id="change-email-heading" className="text-lg font-semibold">
          Change email
        </h2>
        <FieldsForm
          schema="changeEmail"
          action={requestEmailChangeAction}
          fields={[
            { name: "newEmail", label: "New email", kind: "email" },
            { name: "password", label: "Password", kind: "current-password" },
          ]}
          submitLabel="Send a code to the new address"
          pendingLabel="Sending…"
        />
      </section>
    </div>
  );
}
