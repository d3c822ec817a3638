import type { Outcome } from "./outcomes";

/** What every server action returns to its form (consumed with useActionState). */
export interface FormState {
  ok: boolean;
  message?: string;
  reason?: Outcome | "sent";
  fieldErrors?: Record<string, string>;
  /** What the person typed, echoed back so nothing is lost (never passwords). */
  values?: Record<string, string>;
  retryAfterSeconds?: number;
}

export const initialFormState: FormState = { ok: false };
