"use client";

import type { ReactNode } from "react";
import type { FieldValues, Path } from "react-hook-form";
import { Alert } from "@/components/ui/alert";
import { describedBy, Field } from "@/components/ui/field";
import { CodeField } from "@/components/ui/code-field";
import { EmailField } from "@/components/ui/email-field";
import { Input } from "@/components/ui/input";
import { PasswordInput } from "@/components/ui/password-input";
import { SubmitButton } from "@/components/ui/submit-button";
import { DEFAULT_PASSWORD_MIN_LENGTH } from "@/lib/form-rules";
import type { FormState } from "@/lib/web/form-state";
import { useActionForm } from "./use-action-form";

/**
 * The shared schema each form checks with, picked by name (a server page cannot hand a function to a client
 * component). Imported once the page is live, as the signup form does, so zod is not in the first load.
 */
const schemas = () => import("@/lib/schemas");
const SCHEMAS = {
  email: () => schemas().then((s) => s.emailOnlySchema),
  emailAndCode: () => schemas().then((s) => s.verifySchema),
  code: () => schemas().then((s) => s.otpOnlySchema),
  resetPassword: (min: number) => schemas().then((s) => s.resetPasswordFormSchema(min)),
  changePassword: (min: number) => schemas().then((s) => s.changePasswordFormSchema(min)),
  choosePassword: (min: number) => schemas().then((s) => s.choosePasswordFormSchema(min)),
  changeEmail: () => schemas().then((s) => s.changeEmailSchema),
  password: () => schemas().then((s) => s.passwordOnlySchema),
  enableTotp: () => schemas().then((s) => s.enableTotpSchema),
  disableTotp: () => schemas().then((s) => s.disableTotpSchema),
};

export interface FieldSpec {
  name: string;
  label: string;
  kind: "email" | "text" | "code" | "new-password" | "current-password" | "hidden";
  value?: string;
  hint?: string;
  /** A text or password field focused when the form appears (a step the person just asked for); a field the server refused takes precedence. */
  autoFocus?: boolean;
}

/**
 * A form of plain fields over a server action, with the same behaviour as the signup form: checked
 * by the shared schema as each field is left, server errors on the fields, works without JavaScript.
 */
export function FieldsForm({
  schema,
  passwordMinLength = DEFAULT_PASSWORD_MIN_LENGTH,
  action,
  fields,
  submitLabel,
  pendingLabel,
  footer,
  idPrefix = "",
  permalink,
}: {
  schema: keyof typeof SCHEMAS;
  passwordMinLength?: number;
  action: (state: FormState, formData: FormData) => Promise<FormState>;
  fields: FieldSpec[];
  submitLabel: string;
  pendingLabel: string;
  footer?: ReactNode;
  /** Keeps element ids unique when several forms with the same field names share a page. */
  idPrefix?: string;
  /** The page's address, where the page is also served prerendered (useActionForm's permalink). */
  permalink?: string;
}) {
  const defaults = Object.fromEntries(fields.map((f) => [f.name, f.value ?? ""]));
  const { state, form, formAction, pending, onSubmit, errorFor, autoFocus } = useActionForm<FieldValues>(
    () => SCHEMAS[schema](passwordMinLength),
    action,
    defaults,
    {
      permalink,
    },
  );

  return (
    <div className="space-y-5">
      {state.message ? <Alert tone={state.ok ? "success" : "error"}>{state.message}</Alert> : null}
      <form action={formAction} onSubmit={onSubmit} noValidate className="space-y-5">
        {fields.map((field) => {
          const name = field.name as Path<FieldValues>;
          const error = errorFor(name);
          const id = `${idPrefix}${field.name}`;
          if (field.kind === "hidden") return <input key={field.name} type="hidden" {...form.register(name)} value={field.value} />;
          if (field.kind === "email") {
            return (
              <EmailField
                key={field.name}
                id={id}
                label={field.label}
                hint={field.hint}
                error={error}
                defaultValue={state.values?.[field.name] ?? field.value}
                {...form.register(name)}
              />
            );
          }
          if (field.kind === "code") {
            return (
              <CodeField
                key={field.name}
                id={id}
                label={field.label}
                hint={field.hint}
                error={error}
                defaultValue={state.values?.[field.name]}
                {...form.register(name)}
              />
            );
          }
          const common = {
            id,
            autoFocus: state.fieldErrors ? autoFocus(name) : field.autoFocus,
            ...form.register(name),
            ...describedBy(id, error, Boolean(field.hint)),
          };
          return (
            <Field key={field.name} id={id} label={field.label} hint={field.hint} error={error}>
              {field.kind === "new-password" || field.kind === "current-password" ? (
                <PasswordInput autoComplete={field.kind} {...common} />
              ) : (
                <Input type="text" spellCheck={false} defaultValue={state.values?.[field.name] ?? field.value} {...common} />
              )}
            </Field>
          );
        })}
        <SubmitButton pending={pending} pendingLabel={pendingLabel} className="w-full">
          {submitLabel}
        </SubmitButton>
      </form>
      {footer}
    </div>
  );
}
