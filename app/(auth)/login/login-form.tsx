"use client";

import { useEffect, useRef } from "react";
import { loginAction, resendThenVerifyAction } from "@/app/(auth)/actions";
import { Alert } from "@/components/ui/alert";
import { describedBy, Field } from "@/components/ui/field";
import { EmailField } from "@/components/ui/email-field";
import { Input } from "@/components/ui/input";
import { PasswordInput } from "@/components/ui/password-input";
import { SubmitButton } from "@/components/ui/submit-button";
import type { LoginInput } from "@/lib/schemas";
import { useActionForm } from "@/components/forms/use-action-form";

export function LoginForm({ email, notice, secondFactor = false }: { email: string; notice?: string; secondFactor?: boolean }) {
  const { state, form, formAction, pending, onSubmit, errorFor, autoFocus } = useActionForm<LoginInput>(
    () => import("@/lib/schemas").then((schemas) => schemas.loginSchema),
    loginAction,
    { email, password: "" },
    {
      // "Invalid email or password": the password is the likelier slip; it is selected, ready to retype.
      // A second factor asked for: its field. Not verified: the way on is in the message (below).
      focusOnMessage: (answer) => (answer.reason === "unverified" ? undefined : answer.reason === "totp_required" ? "totp" : "password"),
      permalink: "/login",
    },
  );
  const typedEmail = state.values?.email ?? email;
  const unverified = state.reason === "unverified";
  // Staff and admin with a second factor: asked for the code (and the password again) after the first try.
  const askCode = state.values ? state.values.step === "totp" : secondFactor;

  // Not verified yet: the way forward is in the message, so focus goes there.
  const newCodeButton = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (unverified) newCodeButton.current?.querySelector("button")?.focus();
  }, [state, unverified]);

  return (
    <div className="space-y-5">
      {notice && !state.message ? <Alert tone="success">{notice}</Alert> : null}
      {unverified ? (
        <Alert tone="error">
          <p>{state.message}</p>
          <div ref={newCodeButton} className="mt-3 flex flex-wrap items-center gap-x-4 gap-y-2">
            <form action={resendThenVerifyAction}>
              <input type="hidden" name="email" value={typedEmail} />
              <SubmitButton variant="secondary" pendingLabel="Sending…">
                Email me a new code
              </SubmitButton>
            </form>
            <a href={`/verify?email=${encodeURIComponent(typedEmail)}`} className="font-medium underline underline-offset-4">
              I have a code
            </a>
          </div>
        </Alert>
      ) : state.message ? (
        <Alert tone="error">{state.message}</Alert>
      ) : null}

      <form action={formAction} onSubmit={onSubmit} noValidate className="space-y-5">
        <EmailField
          error={errorFor("email")}
          // "webauthn": the browser may offer passkeys among its suggestions (./passkey-sign-in.tsx).
          autoComplete="username webauthn"
          autoFocus={autoFocus("email")}
          defaultValue={typedEmail}
          {...form.register("email")}
        />
        <Field id="password" label="Password" error={errorFor("password")}>
          <PasswordInput
            id="password"
            autoComplete="current-password"
            autoFocus={autoFocus("password")}
            {...form.register("password")}
            {...describedBy("password", errorFor("password"))}
          />
        </Field>
        {askCode ? (
          <Field
            id="totp"
            label="Authentication code"
            hint="The 6-digit code from your authenticator app, or one of your recovery codes."
            error={errorFor("totp")}
          >
            <input type="hidden" name="step" value="totp" />
            <Input
              id="totp"
              autoComplete="one-time-code"
              spellCheck={false}
              autoCapitalize="off"
              autoFocus={autoFocus("totp")}
              {...form.register("totp")}
              {...describedBy("totp", errorFor("totp"), true)}
            />
          </Field>
        ) : null}
        <SubmitButton pending={pending} pendingLabel="Logging in…" className="w-full">
          Log in
        </SubmitButton>
      </form>
    </div>
  );
}
