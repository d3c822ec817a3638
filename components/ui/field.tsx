import type { ReactNode } from "react";
import { Label } from "./label";

/**
 * Label, control, hint and error for one form field; the hint and the error are tied to the control by id.
 * The error sits in a live region that is always there (polite, or an alert for `urgent` fields), so an
 * error that appears as the person leaves the field is read out without moving them.
 */
export function Field({
  id,
  label,
  hint,
  error,
  urgent,
  children,
}: {
  id: string;
  label: string;
  hint?: ReactNode;
  error?: string;
  /** Announce the error assertively (role="alert"): for a field whose error is the answer to a submission. */
  urgent?: boolean;
  children: ReactNode;
}) {
  return (
    <div>
      <Label htmlFor={id} className="mb-2 block">
        {label}
      </Label>
      {children}
      {hint ? (
        <p id={`${id}-hint`} className="text-muted-foreground mt-2 text-xs leading-5">
          {hint}
        </p>
      ) : null}
      <div {...(urgent ? { role: "alert" } : { "aria-live": "polite" as const })}>
        {error ? (
          <p id={`${id}-error`} className="text-danger mt-2 text-sm leading-5 font-medium">
            {error}
          </p>
        ) : null}
      </div>
    </div>
  );
}

/** The aria attributes a control needs to point at its field's error and hint. */
export function describedBy(id: string, error?: string, hasHint?: boolean) {
  const ids = [error ? `${id}-error` : "", hasHint ? `${id}-hint` : ""].filter(Boolean).join(" ");
  return {
    "aria-invalid": error ? true : undefined,
    "aria-describedby": ids || undefined,
  } as const;
}
