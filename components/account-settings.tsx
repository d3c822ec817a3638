import { changePasswordAction, requestEmailChangeAction } from "@/app/account/actions";
import { FieldsForm } from "@/components/forms/fields-form";

/** The signed-in person's own changes: password, and login email (proven by a code). */
export function AccountSettings({ passwordMinLength }: { passwordMinLength: number }) {
  return (
    <div className="mt-8 space-y-8 border-t border-border pt-6">
      <section aria-labelledby="change-password-heading" className="space-y-4">
        <h2 id="change-password-heading" className="text-lg font-semibold">
          Change password
        </h2>
        <FieldsForm
          schema="changePassword"
          passwordMinLength={passwordMinLength}
          action={changePasswordAction}
          fields={[
            { name: "currentPassword", label: "Current password", kind: "current-password" },
            { name: "newPassword", label: "New password", kind: "new-password", hint: `At least ${passwordMinLength} characters.` },
            { name: "passwordConfirmation", label: "Repeat new password", kind: "new-password" },
          ]}
          submitLabel="Change password"
          pendingLabel="Changing…"
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
