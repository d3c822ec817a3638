"use client";

import { registerAction } from "@/app/(auth)/actions";
import { describedBy, Field } from "@/components/ui/field";
import { Alert } from "@/components/ui/alert";
import { Input } from "@/components/ui/input";
import { PasswordInput } from "@/components/ui/password-input";
import { SubmitButton } from "@/components/ui/submit-button";
import { registerFormSchema, type RegisterFormInput } from "@/lib/schemas";
import { useActionForm } from "./use-action-form";

export function RegisterForm({ passwordMinLength }: { passwordMinLength: number }) {
  const { state, form, formAction, pending, onSubmit, errorFor } = useActionForm<RegisterFormInput>(
    registerFormSchema(passwordMinLength),
    registerAction,
    { name: "", email: "", password: "", passwordConfirmation: "" },
  );
  const values = state.values ?? {};
  const password = form.watch("password") ?? "";
  const length = [...password.normalize("NFC")].length;
  const hint =
    length === 0
      ? `At least ${passwordMinLength} characters. A few unrelated words make a strong password you can remember.`
      : length < passwordMinLength
        ? `${length} of ${passwordMinLength} characters: keep going.`
        : length < passwordMinLength + 5
          ? "Long enough. A little longer is even stronger."
          : "Strong length.";

  return (
    <form action={formAction} onSubmit={onSubmit} noValidate className="space-y-5">
      {state.message && !state.ok ? <Alert tone="error">{state.message}</Alert> : null}
      <Field id="name" label="Name" error={errorFor("name")}>
        <Input id="name" autoComplete="name" defaultValue={values.name} {...form.register("name")} {...describedBy("name", errorFor("name"))} />
      </Field>
      <Field id="email" label="Email" error={errorFor("email")}>
        <Input
          id="email"
          type="email"
          autoComplete="email"
          inputMode="email"
          spellCheck={false}
          defaultValue={values.email}
          {...form.register("email")}
          {...describedBy("email", errorFor("email"))}
        />
      </Field>
      <Field id="password" label="Password" hint={hint} error={errorFor("password")}>
        <PasswordInput id="password" autoComplete="new-password" {...form.register("password")} {...describedBy("password", errorFor("password"), true)} />
      </Field>
      <Field id="passwordConfirmation" label="Repeat password" error={errorFor("passwordConfirmation")}>
        <PasswordInput
          id="passwordConfirmation"
          autoComplete="new-password"
          {...form.register("passwordConfirmation")}
          {...describedBy("passwordConfirmation", errorFor("passwordConfirmation"))}
        />
      </Field>
      <SubmitButton pending={pending} pendingLabel="Creating your account…" className="w-full">
        Create account
      </SubmitButton>
    </form>
  );
}
