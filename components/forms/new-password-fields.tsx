"use client";

import type { UseFormReturn } from "react-hook-form";
import { describedBy, Field } from "@/components/ui/field";
import { PasswordInput } from "@/components/ui/password-input";

/** What a form with a new password typed twice has: the fields `password` and `passwordConfirmation`. */
type NewPasswordForm = { password: string; passwordConfirmation: string };

/**
 * A new password and its repeat, as signup and verifying from another device ask for them. A changed password
 * re-checks the repeat once the person has filled that in.
 */
export function NewPasswordFields<T extends NewPasswordForm>({
  form,
  errorFor,
  autoFocus,
  label,
  hint,
}: {
  form: UseFormReturn<T>;
  errorFor: (name: keyof NewPasswordForm & string) => string | undefined;
  autoFocus: (name: keyof NewPasswordForm & string) => boolean | undefined;
  label: string;
  hint: string;
}) {
  const fields = form as unknown as UseFormReturn<NewPasswordForm>;
  return (
    <>
      <Field id="password" label={label} hint={hint} error={errorFor("password")}>
        <PasswordInput
          id="password"
          autoComplete="new-password"
          autoFocus={autoFocus("password")}
          {...fields.register("password", {
            onChange: () => {
              if (fields.getFieldState("passwordConfirmation").isTouched) void fields.trigger("passwordConfirmation");
            },
          })}
          {...describedBy("password", errorFor("password"), true)}
        />
      </Field>
      <Field id="passwordConfirmation" label="Repeat password" error={errorFor("passwordConfirmation")}>
        <PasswordInput
          id="passwordConfirmation"
          autoComplete="new-password"
          autoFocus={autoFocus("passwordConfirmation")}
          {...fields.register("passwordConfirmation")}
          {...describedBy("passwordConfirmation", errorFor("passwordConfirmation"))}
        />
      </Field>
    </>
  );
}
