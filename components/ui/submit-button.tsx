"use client";

import type { MouseEvent, ReactNode } from "react";
import { useFormStatus } from "react-dom";
import { Button, type ButtonVariant } from "./button";

/**
 * A submit button that shows a pending label and cannot be pressed twice while its form is submitting.
 * While pending it stays focusable (aria-disabled, clicks ignored): a disabled button would drop the
 * keyboard focus to the page.
 */
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
  /** Really disabled (not focusable), e.g. while a cooldown runs. */
  disabled?: boolean;
}) {
  const status = useFormStatus();
  const pending = Boolean(pendingProp || status.pending);
  const ignoreWhilePending = (event: MouseEvent<HTMLButtonElement>) => {
    if (pending) event.preventDefault();
  };
  return (
    <Button
      type="submit"
      variant={variant}
      className={className}
      name={name}
      value={value}
      disabled={disabled}
      aria-disabled={pending || undefined}
      data-pending={pending || undefined}
      onClick={ignoreWhilePending}
    >
      {pending ? (
        <>
          <span aria-hidden="true" className="size-4 shrink-0 animate-spin rounded-full border-2 border-current border-t-transparent" />
          {pendingLabel}
        </>
      ) : (
        children
      )}
    </Button>
  );
}
