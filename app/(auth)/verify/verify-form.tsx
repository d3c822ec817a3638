"use client";

import { useActionState, useEffect, useRef, useState } from "react";
import { resendAction, verifyAction } from "@/app/(auth)/actions";
import { Alert } from "@/components/ui/alert";
import { describedBy, Field } from "@/components/ui/field";
import { CodeField } from "@/components/ui/code-field";
import { EmailField } from "@/components/ui/email-field";
import { Input } from "@/components/ui/input";
import { SubmitButton } from "@/components/ui/submit-button";
import { initialFormState, type FormState } from "@/lib/web/form-state";
import type { VerifyChoosingFormInput } from "@/lib/schemas";
import { NewPasswordFields } from "@/components/forms/new-password-fields";
import { deliveryNotice, type DeliveryState, type VerifyNotice } from "./delivery-notice";
import { useActionForm } from "@/components/forms/use-action-form";

/** Outcomes after which this code can no longer work: the way on is a new code. */
const NEEDS_NEW_CODE = new Set(["expired", "used", "too_many_attempts"]);

export type { VerifyNotice };

const POLL_MS = 1_500;
/** Polling stops after this long; a refresh shows the state again. */
const POLL_FOR_MS = 3 * 60_000;

/** The delivery state as it changes: GET /api/delivery every POLL_MS while it is "sending". */
function useDeliveryState(email: string, initial: DeliveryState | undefined) {
  const [delivery, setDelivery] = useState(initial);
  useEffect(() => setDelivery(initial), [initial]);
  useEffect(() => {
    if (!email || delivery !== "sending") return;
    const started = Date.now();
    let stopped = false;
    const timer = setInterval(async () => {
      if (Date.now() - started > POLL_FOR_MS) return clearInterval(timer);
      try {
        const res = await fetch(`/api/delivery?email=${encodeURIComponent(email)}`, { cache: "no-store" });
        const body = (await res.json()) as { delivery?: string };
        if (!stopped && (body.delivery === "sent" || body.delivery === "failed")) setDelivery(body.delivery);
      } catch {
        // offline for a moment: the next poll tries again
      }
    }, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [email, delivery]);
  /** A new code was asked for: follow its delivery from "sending" again. */
  const followAgain = () => setDelivery("sending");
  return [delivery, followAgain] as const;
}

export function VerifyForm({
  email,
  notice,
  cooldownSeconds,
  codeValidity,
  choosing: choosingAtLoad,
  passwordMinLength,
  delivery: deliveryAtLoad,
}: {
  email: string;
  /** The delivery queue's state for this address when the page was made; followed live while "sending". */
  delivery?: DeliveryState;
  /** How the last send went, from the page's query (the register and login redirects say). */
  notice?: VerifyNotice;
  /** Seconds until another code may be sent, as the server counts them. */
  cooldownSeconds: number;
  /** How long a code works, in words, from the server's config ("10 minutes"). */
  codeValidity: string;
  /** This browser did not make the signup: the person chooses a name and password beside the code. */
  choosing: boolean;
  passwordMinLength: number;
}) {
  const { state, form, formAction, pending, onSubmit, errorFor, autoFocus, hydrated } = useActionForm<VerifyChoosingFormInput>(
    () => import("@/lib/schemas").then((schemas) => (choosingAtLoad ? schemas.verifyChoosingFormSchema(passwordMinLength) : schemas.verifySchema)),
    verifyAction,
    { email, otp: "" },
  );
  // The server can also ask for them (the signup's token ran out since the page was loaded).
  const choosing = choosingAtLoad || state.values?.choosing === "1";
  const [resendState, resendFormAction, resendPending] = useActionState(resendAction, initialFormState);
  const codeInput = useRef<HTMLInputElement | null>(null);
  const otp = form.register("otp");

  // After a wrong, expired or used-up code, focus is back on the field (useActionForm) with the code
  // selected, so the next one can simply be typed or pasted over it.
  useEffect(() => {
    if (state.fieldErrors?.otp) codeInput.current?.select();
  }, [state]);

  // The latest answer wins: a fresh resend result replaces an older verify error in the page notice.
  const [latest, setLatest] = useState<"none" | "verify" | "resend">("none");
  useEffect(() => {
    if (state !== initialFormState) setLatest("verify");
  }, [state]);
  useEffect(() => {
    if (resendState !== initialFormState) setLatest("resend");
  }, [resendState]);

  const otpError = errorFor("otp");
  const needsNewCode = NEEDS_NEW_CODE.has(state.reason ?? "") && latest !== "resend";
  // Messages the code field does not carry itself (e.g. "we cannot check codes right now").
  const verifyMessage = state.message && !state.fieldErrors?.otp && !state.ok ? state.message : undefined;
  const [delivery, followAgain] = useDeliveryState(email, deliveryAtLoad);
  useEffect(() => {
    if (resendState.ok) followAgain();
  }, [resendState]);
  // A code asked for here could not be sent after all: that replaces the resend's "on its way".
  const resendFailed = latest === "resend" && resendState.ok && delivery === "failed";
  // A state that changed since the page was made replaces the page's notice.
  const liveNotice = delivery && delivery !== deliveryAtLoad ? deliveryNotice(delivery) : notice;
  const showNotice = liveNotice && latest === "none" && !state.fieldErrors && !resendState.message;

  return (
    <div className="space-y-6">
      {showNotice ? (
        <Alert tone={liveNotice.tone} data-delivery={delivery}>
          {liveNotice.text}
        </Alert>
      ) : null}
      {resendFailed ? (
        <Alert tone="error" data-delivery="failed">
          {deliveryNotice("failed").text}
        </Alert>
      ) : null}
      {verifyMessage && latest === "verify" ? <Alert tone="error">{verifyMessage}</Alert> : null}

      <form action={formAction} onSubmit={onSubmit} noValidate className="space-y-5">
        {email ? (
          <p className="text-muted-foreground text-sm leading-6">
            We sent a 6-digit code to <strong className="text-foreground font-medium wrap-anywhere">{email}</strong>.{" "}
            <a href="/register" className="text-foreground font-medium whitespace-nowrap underline underline-offset-4">
              Wrong address? Start again
            </a>
          </p>
        ) : null}
        {email ? (
          <input type="hidden" {...form.register("email")} value={email} />
        ) : (
          <EmailField
            error={errorFor("email")}
            autoFocus={autoFocus("email") ?? state === initialFormState}
            defaultValue={state.values?.email}
            {...form.register("email")}
          />
        )}
        {/* The sixth digit submits, once per code; not while a name and password are still to be chosen. */}
        <CodeField
          id="otp"
          label="Verification code"
          error={otpError}
          urgent
          hint={`6 digits. The code works for ${codeValidity}.`}
          autoSubmit={!choosing}
          autoFocus={email ? !autoFocus("email") : autoFocus("otp")}
          aria-busy={pending || undefined}
          defaultValue={state.values?.otp}
          {...otp}
          ref={(element) => {
            otp.ref(element);
            codeInput.current = element;
          }}
        />
        {choosing ? (
          <fieldset className="space-y-5">
            <legend className="text-muted-foreground text-sm leading-6">
              This browser did not make the signup, so the name and password chosen there do not apply. Choose yours: you will be signed in with them.
            </legend>
            <input type="hidden" name="choosing" value="1" />
            <Field id="name" label="Name" error={errorFor("name")}>
              <Input
                id="name"
                autoComplete="name"
                autoFocus={autoFocus("name")}
                defaultValue={state.values?.name}
                {...form.register("name")}
                {...describedBy("name", errorFor("name"))}
              />
            </Field>
            <NewPasswordFields
              form={form}
              errorFor={errorFor}
              autoFocus={autoFocus}
              label="Choose a password"
              hint={`At least ${passwordMinLength} characters.`}
            />
          </fieldset>
        ) : null}
        <SubmitButton pending={pending} pendingLabel="Checking…" className="w-full">
          {choosing ? "Verify and sign in" : "Verify email"}
        </SubmitButton>
      </form>

      <ResendForm
        email={email || (form.watch("email") ?? "")}
        action={resendFormAction}
        state={resendState}
        pending={resendPending}
        initialCooldownSeconds={delivery === "failed" ? 0 : cooldownSeconds}
        deliveryFailed={resendFailed}
        emphasised={needsNewCode}
        hydrated={hydrated}
      />
    </div>
  );
}

/**
 * "Send a new code", counting down the cooldown the server reports ("Send a new code in 42 s") while
 * disabled. A disabled button is not focused and not live, so screen readers are not told every second.
 */
function ResendForm({
  email,
  action,
  state,
  pending,
  initialCooldownSeconds,
  emphasised,
  hydrated,
  deliveryFailed,
}: {
  email: string;
  action: (formData: FormData) => void;
  state: FormState;
  pending: boolean;
  initialCooldownSeconds: number;
  emphasised: boolean;
  hydrated: boolean;
  /** The code this form asked for could not be sent: the server gave the cooldown back, and "on its way" is no longer true. */
  deliveryFailed: boolean;
}) {
  // Each answer from the server restarts the count from what it says (a sent code, or a rate limit).
  const cooldown = deliveryFailed ? 0 : state === initialFormState ? initialCooldownSeconds : (state.retryAfterSeconds ?? 0);
  const [secondsLeft, setSecondsLeft] = useState(cooldown);
  useEffect(() => {
    setSecondsLeft(cooldown);
    if (cooldown <= 0) return;
    const started = Date.now();
    const timer = setInterval(() => {
      const left = Math.max(0, cooldown - Math.floor((Date.now() - started) / 1000));
      setSecondsLeft(left);
      if (left === 0) clearInterval(timer);
    }, 250);
    return () => clearInterval(timer);
  }, [cooldown, state]);
  // Without JavaScript nothing would re-enable the button, so it only waits once the page is live.
  const waiting = hydrated && secondsLeft > 0;

  const message = state.fieldErrors?.email ? "Enter your email address above first, then ask for a new code." : deliveryFailed ? undefined : state.message;

  return (
    <form action={action} className="border-border space-y-3 border-t pt-5 text-sm">
      <input type="hidden" name="email" value={email} />
      <p className="text-muted-foreground">Didn’t get the email? Check your spam folder, or ask for another code.</p>
      <SubmitButton variant={emphasised ? "primary" : "secondary"} pending={pending} pendingLabel="Sending…" disabled={waiting} className="tabular-nums">
        {waiting ? `Send a new code in ${secondsLeft} s` : "Send a new code"}
      </SubmitButton>
      {message ? <Alert tone={state.ok ? "success" : "error"}>{message}</Alert> : null}
    </form>
  );
}
