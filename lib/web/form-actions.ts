import "server-only";
import { headers } from "next/headers";
import type { FormState } from "./form-state";
import { OUTCOMES, waitMessage, type Outcome } from "./outcomes";
import { requestContext } from "./request-context";
import { passwordQueueFull } from "../credentials/passwords";
import { StoreUnavailableError } from "../store/code-store";
import { databaseOutageOf, logDatabaseOutage } from "@/db/outage";

/** Helpers the server actions share: they turn service results into form state. */

export function textFields(formData: FormData, names: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of names) {
    const value = formData.get(name);
    if (typeof value === "string") values[name] = value.slice(0, 300);
  }
  return values;
}

export function failure(reason: Outcome, values: Record<string, string>, extra: Partial<FormState> = {}): FormState {
  return { ok: false, reason, message: OUTCOMES[reason].message, values, ...extra };
}

/** A service's failed result as form state; a rate limit says how long to wait. */
export function refused(
  result: { reason: Outcome; retryAfterSeconds?: number; message?: string },
  values: Record<string, string>,
  options: { what?: string; passwordField?: string } = {},
): FormState {
  if (result.reason === "rate_limited" && result.retryAfterSeconds) {
    return failure("rate_limited", values, { message: waitMessage(result.retryAfterSeconds, options.what), retryAfterSeconds: result.retryAfterSeconds });
  }
  if (result.reason === "weak_password" && result.message) {
    return failure("weak_password", values, { fieldErrors: { [options.passwordField ?? "password"]: result.message } });
  }
  return failure(result.reason, values);
}

export const actionContext = async () => requestContext(await headers());

/** Runs a service call; an outage of the code store or the database, or a full password queue, becomes a calm message instead of an error page. */
export async function guarded(values: Record<string, string>, run: () => Promise<FormState>): Promise<FormState> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof StoreUnavailableError) return failure("store_unavailable", values);
    const busy = passwordQueueFull(error);
    if (busy) return failure("busy", values, { retryAfterSeconds: busy.retryAfterSeconds });
    const outage = databaseOutageOf(error);
    if (outage) {
      logDatabaseOutage(outage, "form_action");
      return failure("database_unavailable", values);
    }
    throw error;
  }
}
