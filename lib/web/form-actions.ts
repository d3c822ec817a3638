import "server-only";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import * as z from "zod/mini";
import type { FormState } from "./form-state";
import { OUTCOMES, waitMessage, type Outcome } from "./outcomes";
import { requestContext } from "./request-context";
import { passwordQueueFull } from "../credentials/passwords";
import { StoreUnavailableError } from "../store/code-store";
import { databaseOutageOf, logDatabaseOutage } from "@/db/outage";
import { fieldErrorsOf } from "../schemas";

/** Helpers the server actions share: they turn service results into form state. */

export function textFields(formData: FormData, names: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of names) {
    const value = formData.get(name);
    if (typeof value === "string") values[name] = value.slice(0, 300);
  }
  return values;
}

/** Form state that refuses: what a server action answers when it did not do what was asked. */
export type Refusal = FormState & { ok: false };

export function failure(reason: Outcome, values: Record<string, string>, extra: Partial<Omit<FormState, "ok">> = {}): Refusal {
  return { ok: false, reason, message: OUTCOMES[reason].message, values, ...extra };
}

/**
 * A service's failed result as form state; a rate limit says how long to wait. With `field` (a code field),
 * the message also stands on that field, except a weak password's, which stands on the password field.
 */
export function refused(
  result: { reason: Outcome; retryAfterSeconds?: number; message?: string },
  values: Record<string, string>,
  options: { what?: string; passwordField?: string; field?: string } = {},
): Refusal {
  const state = refusal(result, values, options);
  return options.field && result.reason !== "weak_password" ? { ...state, fieldErrors: { [options.field]: state.message! } } : state;
}

function refusal(
  result: { reason: Outcome; retryAfterSeconds?: number; message?: string },
  values: Record<string, string>,
  options: { what?: string; passwordField?: string },
): Refusal {
  if (result.reason === "rate_limited" && result.retryAfterSeconds) {
    return failure("rate_limited", values, { message: waitMessage(result.retryAfterSeconds, options.what), retryAfterSeconds: result.retryAfterSeconds });
  }
  if (result.reason === "weak_password" && result.message) {
    return failure("weak_password", values, { fieldErrors: { [options.passwordField ?? "password"]: result.message } });
  }
  return failure(result.reason, values);
}

export const actionContext = async () => requestContext(await headers());

const WRONG_PASSWORD = "Your password is not right.";

/**
 * A refused password typed again (a signed-in person confirming a change): a wrong one is said on its field. The
 * caller has answered its own refusals already, so what is left is an outcome (a rate limit, a lock, no password yet).
 */
export function passwordRefusal(result: { reason: string; retryAfterSeconds?: number }, values: Record<string, string> = {}): Refusal {
  if (result.reason === "invalid_credentials")
    return { ...failure("invalid_credentials", values), message: WRONG_PASSWORD, fieldErrors: { password: WRONG_PASSWORD } };
  return refused(result as { reason: Outcome; retryAfterSeconds?: number }, values);
}

/** Runs a service call; an outage of the code store or the database, or a full password queue, becomes a calm message instead of an error page. */
export async function guarded<T>(values: Record<string, string>, run: () => Promise<T>): Promise<T | Refusal> {
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

type Fields = Record<string, FormDataEntryValue>;

export interface ActionSpec<T, R extends { ok: true }, U> {
  /** The shared schema from lib/schemas.ts; a function where it depends on the config or on the form itself. */
  schema: z.ZodMiniType<T> | ((fields: Fields, values: Record<string, string>) => z.ZodMiniType<T>);
  /** The text fields echoed back to the form (never passwords), each cut to 300 characters. */
  echo?: readonly string[];
  /** Check the echoed fields alone (as cut) instead of the whole form. */
  checkEchoed?: boolean;
  /** Invalid input also says so above the form ("Some details need another look."), not only on the fields. */
  invalidMessage?: boolean;
  /** Who must be signed in, read before anything else (it redirects to /login when nobody is). */
  signedIn?: () => Promise<U>;
  /** The one service call, inside the outage guard: a refusal, or what `done` needs. */
  run: (input: T, context: { values: Record<string, string>; user: U }) => Promise<Refusal | R>;
  /** After success, outside the guard: the address to go on to, or the state to show. Without it, run's result is shown. */
  done?: (result: R, input: T, context: { values: Record<string, string>; user: U }) => string | FormState | Promise<string | FormState>;
}

/**
 * A server action from its parts: check the form with the shared schema (field errors and the typed values
 * back on failure), run one service call inside the outage guard, and turn its result into form state or
 * a redirect.
 */
export function validatedAction<T, R extends { ok: true }, U = undefined>(spec: ActionSpec<T, R, U>) {
  return async (_previous: FormState, formData: FormData): Promise<FormState> => {
    const user = (spec.signedIn ? await spec.signedIn() : undefined) as U;
    // A server action can be called with any arguments React can encode, not only the form's.
    if (!(formData instanceof FormData)) return failure("invalid_input", {});
    const values = textFields(formData, [...(spec.echo ?? [])]);
    const fields = Object.fromEntries(formData);
    const schema = typeof spec.schema === "function" ? spec.schema(fields, values) : spec.schema;
    const parsed = z.safeParse(schema, spec.checkEchoed ? values : fields);
    if (!parsed.success) {
      return failure("invalid_input", values, { fieldErrors: fieldErrorsOf(parsed.error), ...(spec.invalidMessage ? {} : { message: undefined }) });
    }
    const context = { values, user };
    const result = await guarded(values, () => spec.run(parsed.data, context));
    if (!result.ok) return result;
    if (!spec.done) return result as FormState;
    const next = await spec.done(result as R, parsed.data, context);
    if (typeof next === "string") redirect(next);
    return next;
  };
}
