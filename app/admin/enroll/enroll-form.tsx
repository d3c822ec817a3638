"use client";

import { useActionState } from "react";
import { confirmEnrolmentAction } from "@/app/admin/actions";
import { CodeField } from "@/components/ui/code-field";
import { describedBy, Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { SubmitButton } from "@/components/ui/submit-button";
import { initialFormState } from "@/lib/web/form-state";

/**
 * The enrolment code from the operator and the first code from the app turn the second factor on (works
 * without JavaScript: a plain form post).
 */
export function EnrollForm() {
  const [state, formAction, pending] = useActionState(confirmEnrolmentAction, initialFormState);
  const error = state.fieldErrors?.code;
  const enrolmentError = state.fieldErrors?.enrolmentCode;
  return (
    <form action={formAction} className="space-y-4" noValidate>
      <Field
        id="enrolmentCode"
        label="Enrolment code"
        hint="From the operator who set up your account (ten letters and digits, such as abcde-fghjk). It works once."
        error={enrolmentError}
      >
        <Input
          id="enrolmentCode"
          name="enrolmentCode"
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          maxLength={16}
          required
          {...describedBy("enrolmentCode", enrolmentError, true)}
        />
      </Field>
      <CodeField id="code" name="code" label="Code from the app" hint="Six digits; the app shows a new one every 30 seconds." error={error} required />
      <SubmitButton pending={pending} pendingLabel="Checking…" className="w-full">
        Turn on two-factor authentication
      </SubmitButton>
    </form>
  );
}
