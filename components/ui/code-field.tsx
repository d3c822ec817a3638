"use client";

import { useRef, type ChangeEvent, type ClipboardEvent, type InputHTMLAttributes, type ReactNode, type Ref } from "react";
import { CODE_LENGTH, codeDigits } from "@/lib/form-rules";
import { cn } from "@/lib/web/cn";
import { describedBy, Field } from "./field";
import { Input } from "./input";

type CodeFieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, "id" | "type" | "onPaste"> & {
  ref?: Ref<HTMLInputElement>;
  id: string;
  label: string;
  hint?: ReactNode;
  error?: string;
  /** Announce the error assertively (Field's `urgent`). */
  urgent?: boolean;
  /** The sixth digit submits the form (once per code): for a form where the code is all there is left to fill. */
  autoSubmit?: boolean;
};

/**
 * The 6-digit code field: the number pad on phones, the code offered by the keyboard or the browser
 * (`autocomplete="one-time-code"`), and digits only, whatever was typed or pasted ("123 456", "123-456").
 * Without JavaScript it is a plain text field, and the server's schema does the same clean-up.
 */
export function CodeField({ id, label, hint, error, urgent, autoSubmit = false, onChange, className, ...props }: CodeFieldProps) {
  const pasted = useRef<string | null>(null);
  const autoSubmitted = useRef("");

  function change(event: ChangeEvent<HTMLInputElement>) {
    const input = event.target;
    const raw = input.value;
    // A pasted code replaces what was there (pasting "123 456" into "12" gives "123456", not "121234").
    const fromPaste = pasted.current === null ? "" : codeDigits(pasted.current);
    pasted.current = null;
    const digits = fromPaste.length === CODE_LENGTH ? fromPaste : codeDigits(raw);
    if (digits !== raw) {
      const caret = fromPaste ? digits.length : Math.min(codeDigits(raw.slice(0, input.selectionStart ?? raw.length)).length, digits.length);
      input.value = digits;
      input.setSelectionRange(caret, caret);
    }
    onChange?.(event);
    if (digits.length < CODE_LENGTH || !autoSubmit) autoSubmitted.current = "";
    else if (digits !== autoSubmitted.current) {
      autoSubmitted.current = digits;
      input.form?.requestSubmit();
    }
  }
  // Not prevented (that would block pasting for password managers and some assistive tech): only noted,
  // and the change event that follows does the cleaning.
  function paste(event: ClipboardEvent<HTMLInputElement>) {
    pasted.current = event.clipboardData.getData("text");
    // The change event comes in the same task; a paste that changed nothing must not linger.
    setTimeout(() => (pasted.current = null));
  }

  return (
    <Field id={id} label={label} hint={hint} error={error} urgent={urgent}>
      <Input
        id={id}
        type="text"
        autoComplete="one-time-code"
        inputMode="numeric"
        enterKeyHint="done"
        autoCapitalize="none"
        spellCheck={false}
        // Room for "123 456" or "123-456" while pasting; the change handler trims it to the digits.
        maxLength={32}
        className={cn("h-14 text-center font-mono text-2xl tracking-[0.4em] tabular-nums sm:h-14 sm:text-2xl", className)}
        {...props}
        onChange={change}
        onPaste={paste}
        {...describedBy(id, error, Boolean(hint))}
      />
    </Field>
  );
}
