import type { InputHTMLAttributes, ReactNode, Ref } from "react";
import { describedBy, Field } from "./field";
import { Input } from "./input";

type EmailFieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, "id" | "type"> & {
  ref?: Ref<HTMLInputElement>;
  id?: string;
  label?: string;
  hint?: ReactNode;
  error?: string;
};

/**
 * An email address field: the email keyboard on phones, no automatic capital or spelling fixes, and the
 * browser's saved addresses (`autocomplete="email"` unless told otherwise, e.g. "username webauthn" at login).
 */
export function EmailField({ id = "email", label = "Email", hint, error, autoComplete = "email", ...props }: EmailFieldProps) {
  return (
    <Field id={id} label={label} hint={hint} error={error}>
      <Input
        id={id}
        type="email"
        autoComplete={autoComplete}
        inputMode="email"
        autoCapitalize="none"
        spellCheck={false}
        {...props}
        {...describedBy(id, error, Boolean(hint))}
      />
    </Field>
  );
}
