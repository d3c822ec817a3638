"use client";

import Link from "next/link";
import { useActionState, useEffect, useRef, useState } from "react";
import { resendAction, verifyAction } from "@/app/(auth)/actions";
import { Alert } from "@/components/ui/alert";
import { describedBy, Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { SubmitButton } from "@/components/ui/submit-button";
import { initialFormState } from "@/lib/form-state";
import { verifySchema, type VerifyInput } from "@/lib/schemas";
import { useActionForm } from "./use-action-form";

const NEEDS_NEW_CODE = new Set(["expired", "used", "too_many_attempts"]);

export function VerifyForm({
  email,
  notice,
  cooldownSeconds,
}: {
  email: string;
  notice?: { tone: "success" | "error" | "info"; text: string };
  /** Seconds until another code may be sent, as the server counts them. */
  cooldownSeconds: number;
}) {
  const { state, form, formAction, pending, onSubmit, errorFor } = useActionForm<VerifyInput>(verifySchema, verifyAction, {
    email,
    otp: "",
  });
  const [resendState, resendFormAction, resendPending] = useActionState(resendAction, initialFormState);
  const formRef = useRef<HTMLFormElement>(null);

  // The latest answer wins: a fresh resend result replaces an older verify error and vice versa.
  const [latest, setLatest] = useState<"verify" | "resend">(() => (resendState.message ? "resend" : "verify"));
  useEffect(() => setLatest("verify"), [state]);
  useEffect(() => setLatest("resend"), [resendState]);
  const shown = latest === "resend" && resendState.message ? resendState : state.message ? state : undefined;

  const otpError = errorFor("otp");
  const otp = form.register("otp", {
    onChange: (event: { target: HTMLInputElement }) => {
      const digits = event.target.value.replace(/\D/g, "").slice(0, 6);
      if (digits !== event.target.value) form.setValue("otp", digits);
      // The sixth digit submits, as on the best hosted sign-ins.
      if (digits.length === 6 && !pending) formRef.current?.requestSubmit();
    },
  });
  const needsNewCode = NEEDS_NEW_CODE.has(state.reason ?? "");

  return (
    <div className="space-y-6">
      {notice && !shown ? <Alert tone={notice.tone}>{notice.text}</Alert> : null}
      {shown ? <Alert tone={shown.ok ? "success" : "error"}>{shown.message}</Alert> : null}

      <form ref={formRef} action={formAction} onSubmit={onSubmit} noValidate className="space-y-5">
        {email ? (
          <p className="text-sm text-muted-foreground">
            We sent a 6-digit code to <strong className="text-foreground">{email}</strong>.{" "}
            <Link href="/register" className="underline underline-offset-4">
              Wrong address? Start again
            </Link>
          </p>
        ) : null}
        {email ? (
          <input type="hidden" {...form.register("email")} value={email} />
        ) : (
          <Field id="email" label="Email" error={errorFor("email")}>
            <Input id="email" type="email" autoComplete="email" {...form.register("email")} {...describedBy("email", errorFor("email"))} />
          </Field>
        )}
        <Field id="otp" label="Verification code" error={otpError} hint="The code is valid for 10 minutes.">
          <Input
            id="otp"
            autoComplete="one-time-code"
            inputMode="numeric"
            pattern="[0-9 \-]*"
            maxLength={12}
            autoFocus
            placeholder="123456"
            className="h-14 text-center font-mono text-2xl tracking-[0.5em]"
            defaultValue={state.values?.otp}
            {...otp}
            {...describedBy("otp", otpError, true)}
          />
        </Field>
        <SubmitButton pending={pending} pendingLabel="Checking…" className="w-full">
          Verify email
        </SubmitButton>
      </form>

      <ResendForm
        email={email || form.watch("email")}
        action={resendFormAction}
        pending={resendPending}
        cooldownSeconds={resendState.retryAfterSeconds ?? cooldownSeconds}
        cooldownKey={resendState}
        emphasised={needsNewCode}
      />
    </div>
  );
}

function ResendForm({
  email,
  action,
  pending,
  cooldownSeconds,
  cooldownKey,
  emphasised,
}: {
  email: string;
  action: (formData: FormData) => void;
  pending: boolean;
  cooldownSeconds: number;
  cooldownKey: unknown;
  emphasised: boolean;
}) {
  const [secondsLeft, setSecondsLeft] = useState(cooldownSeconds);
  // Without JavaScript nothing would re-enable the button, so it only waits once the page is live.
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const waiting = hydrated && secondsLeft > 0;
  useEffect(() => {
    setSecondsLeft(cooldownSeconds);
    if (cooldownSeconds <= 0) return;
    const started = Date.now();
    const timer = setInterval(() => {
      const left = cooldownSeconds - Math.floor((Date.now() - started) / 1000);
      setSecondsLeft(Math.max(0, left));
      if (left <= 0) clearInterval(timer);
    }, 1000);
    return () => clearInterval(timer);
  }, [cooldownSeconds, cooldownKey]);

  return (
    <form action={action} className="flex flex-wrap items-center gap-x-3 gap-y-2 border-t border-border pt-5 text-sm">
      <input type="hidden" name="email" value={email} />
      <span className="text-muted-foreground">Didn’t get it? Check spam, or</span>
      <SubmitButton variant={emphasised ? "primary" : "secondary"} pending={pending} pendingLabel="Sending…" disabled={waiting}>
        {waiting ? `Send a new code (${secondsLeft}s)` : "Send a new code"}
      </SubmitButton>
    </form>
  );
}
