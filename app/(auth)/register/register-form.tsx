"use client";

import { registerAction } from "@/app/(auth)/actions";
import { Alert } from "@/components/ui/alert";
import { describedBy, Field } from "@/components/ui/field";
import { EmailField } from "@/components/ui/email-field";
import { Input } from "@/components/ui/input";
import { SubmitButton } from "@/components/ui/submit-button";
import type { RegisterFormInput } from "@/lib/schemas";
import { NewPasswordFields } from "@/components/forms/new-password-fields";
import { useActionForm } from "@/components/forms/use-action-form";

/** A short, honest hint: length is what makes a password strong (NIST SP 800-63B), so that is what it counts. */
function strengthHint(password: string, min: number): string {
  const length = [...password.normalize("NFC")].length;
  if (length === 0) return `At least ${min} characters. A few unrelated words make a strong password you can remember.`;
  if (length < min) return `${length} of ${min} characters: keep going.`;
  if (length < min + 5) return "Long enough. A little longer is even stronger.";
  return "Strong: a long password.";
}

export function RegisterForm({ passwordMinLength }: { passwordMinLength: number }) {
  const { state, form, pending, formAction, onSubmit, errorFor, autoFocus } = useActionForm<RegisterFormInput>(
    () => import("@/lib/schemas").then((schemas) => schemas.registerFormSchema(passwordMinLength)),
    registerAction,
    { name: "", email: "", password: "", passwordConfirmation: "" },
    { permalink: "/register" },
  );
  const values = state.values ?? {};
  const hint = strengthHint(form.watch("password") ?? "", passwordMinLength);

  return (
    <form action={formAction} onSubmit={onSubmit} noValidate className="space-y-5">
      {state.message && !state.ok ? <Alert tone="error">{state.message}</Alert> : null}
      <Field id="name" label="Name" error={errorFor("name")}>
        <Input
          id="name"
          autoComplete="name"
          autoFocus={autoFocus("name")}
          defaultValue={values.name}
          {...form.register("name")}
          {...describedBy("name", errorFor("name"))}
        />
      </Field>
      <EmailField error={errorFor("email")} autoFocus={autoFocus("email")} defaultValue={values.email} {...form.register("email")} />
      <NewPasswordFields form={form} errorFor={errorFor} autoFocus={autoFocus} label="Password" hint={hint} />
      <SubmitButton pending={pending} pendingLabel="Creating your account…" className="w-full">
        Create account
      </SubmitButton>
    </form>
  );
}
