"use client";

import Link from "next/link";
import { loginAction, resendThenVerifyAction } from "@/app/(auth)/actions";
import { Alert } from "@/components/ui/alert";
import { describedBy, Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { PasswordInput } from "@/components/ui/password-input";
import { SubmitButton } from "@/components/ui/submit-button";
import { loginSchema, type LoginInput } from "@/lib/schemas";
import { useActionForm } from "./use-action-form";

export function LoginForm({ email, notice }: { email: string; notice?: string }) {
  const { state, form, formAction, pending, onSubmit, errorFor } = useActionForm<LoginInput>(loginSchema, loginAction, {
    email,
    password: "",
  });
  const typedEmail = state.values?.email ?? email;

  return (
    <div className="space-y-5">
      {notice && !state.message ? <Alert tone="success">{notice}</Alert> : null}
      {state.reason === "unverified" ? (
        <Alert tone="error">
          <p>{state.message}</p>
          <div className="mt-3 flex flex-wrap items-center gap-3">
            <form action={resendThenVerifyAction}>
              <input type="hidden" name="email" value={typedEmail} />
              <SubmitButton pendingLabel="Sending…">Email me a new code</SubmitButton>
            </form>
            <Link href={`/verify?email=${encodeURIComponent(typedEmail)}`} className="font-medium underline underline-offset-4">
              I have a code
            </Link>
          </div>
        </Alert>
      ) : state.message ? (
        <Alert tone="error">{state.message}</Alert>
      ) : null}

      <form action={formAction} onSubmit={onSubmit} noValidate className="space-y-5">
        <Field id="email" label="Email" error={errorFor("email")}>
          <Input
            id="email"
            type="email"
            autoComplete="username"
            inputMode="email"
            spellCheck={false}
            defaultValue={typedEmail}
            {...form.register("email")}
            {...describedBy("email", errorFor("email"))}
          />
        </Field>
        <Field id="password" label="Password" error={errorFor("password")}>
          <PasswordInput id="password" autoComplete="current-password" {...form.register("password")} {...describedBy("password", errorFor("password"))} />
        </Field>
        <SubmitButton pending={pending} pendingLabel="Logging in…" className="w-full">
          Log in
        </SubmitButton>
      </form>
    </div>
  );
}
