"use client";

import type { ReactNode } from "react";
import { useFormStatus } from "react-dom";
import { Button, type ButtonVariant } from "./button";

/** A submit button that shows a pending label and cannot be pressed twice while its form is submitting. */
export function SubmitButton({
  children,
  pendingLabel,
  pending: pendingProp,
  variant,
  className,
  name,
  value,
  disabled,
}: {
  children: ReactNode;
  pendingLabel: string;
  pending?: boolean;
  variant?: ButtonVariant;
  className?: string;
  name?: string;
  value?: string;
  disabled?: boolean;
}) {
  const status = useFormStatus();
  const pending = pendingProp || status.pending;
  return (
    <Button type="submit" variant={variant} className={className} name={name} value={value} disabled={pending || disabled} aria-disabled={pending || disabled}>
      {pending ? (
        <>
          <span aria-hidden="true" className="size-4 animate-spin rounded-full border-2 border-current border-t-transparent" />
          {pendingLabel}
        </>
      ) : (
        children
      )}
    </Button>
  );
}
