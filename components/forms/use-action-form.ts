"use client";

import type { StandardSchemaV1 } from "@standard-schema/spec";
import { startTransition, useActionState, useEffect, useRef, useState, type FormEvent } from "react";
import { useForm, type FieldValues, type Path, type Resolver, type UseFormRegister, type UseFormReturn } from "react-hook-form";
import { initialFormState, type FormState } from "@/lib/web/form-state";

type Action = (state: FormState, formData: FormData) => Promise<FormState>;
type Schema = StandardSchemaV1<FieldValues>;

/**
 * The shared schema a form checks with: the schema itself, or a loader that imports it. With a loader the
 * schema (and zod with it) is a separate chunk fetched right after the page is live instead of part of the
 * page's first load; the server checks every post anyway.
 */
export type SchemaSource = Schema | (() => Promise<Schema>);

/**
 * react-hook-form's resolver for a schema source, through @hookform/resolvers' standard-schema resolver
 * (which, unlike zodResolver, does not pull in zod's classic API). If the schema cannot be loaded (a flaky
 * network), the form goes to the server unchecked rather than getting stuck: the server validates too.
 */
function lazyResolver(source: SchemaSource): { resolver: Resolver<FieldValues>; preload: () => void } {
  let loading: Promise<Resolver<FieldValues>> | undefined;
  const load = () =>
    (loading ??= Promise.all([import("@hookform/resolvers/standard-schema"), typeof source === "function" ? source() : source]).then(
      ([module, schema]) => module.standardSchemaResolver(schema) as Resolver<FieldValues>,
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    ));
  return {
    preload: () => void load().catch(() => {}),
    resolver: async (values, context, options) => {
      try {
        return await (await load())(values, context, options);
      } catch {
        return { values, errors: {} };
      }
    },
  };
}

export interface ActionFormOptions<T extends FieldValues> {
  /**
   * Where focus goes when the server answers with a message but no field error (e.g. "Invalid email or
   * password"): a field, or a function of the answer that picks one.
   */
  focusOnMessage?: Path<T> | ((state: FormState) => Path<T> | undefined);
  /**
   * The page's own address, for a form that is also served prerendered (lib/web/static-pages.ts). React keys a form
   * posted without JavaScript by its place in the component tree unless it has a permalink, and the prerendered
   * route's tree is not the per-request one that answers the post: without it the answer's messages were dropped.
   */
  permalink?: string;
}

/**
 * A server-action form enhanced by react-hook-form.
 *
 * - Without JavaScript the <form action> posts, and the server's field errors and echoed values render.
 * - With it, the shared schema checks each field as the person leaves it (and again as they fix it), and on
 *   submit; the action runs only when the form is valid, and never twice at once.
 * - Errors from the server land on the same fields, and focus moves to the first one.
 * - What was typed stays in the fields after a server error (inputs are uncontrolled; nothing resets them).
 */
export function useActionForm<T extends FieldValues>(schema: SchemaSource, action: Action, defaultValues: Partial<T>, options: ActionFormOptions<T> = {}) {
  const [state, formAction, pending] = useActionState(action, initialFormState, options.permalink);
  const [{ resolver, preload }] = useState(() => lazyResolver(schema));
  const form = useForm<T>({
    resolver: resolver as unknown as Resolver<T>,
    mode: "onTouched",
    // Empty defaults are left out: react-hook-form then reads the field from the page, so whatever was
    // typed (or autofilled) before the page became interactive is kept.
    defaultValues: Object.fromEntries(Object.entries(defaultValues).filter(([, value]) => value !== "" && value !== undefined)) as never,
  });
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => {
    setHydrated(true);
    preload();
  }, [preload]);

  // A field left by pressing a submit button is not checked on its own: its error would appear between
  // the press and the release, push the button down, and the click would miss it. The submit checks it.
  const pressingSubmit = useRef(false);
  useEffect(() => {
    const down = (event: PointerEvent) => {
      pressingSubmit.current = event.target instanceof Element && event.target.closest('button[type="submit"]') !== null;
    };
    const up = () => setTimeout(() => (pressingSubmit.current = false));
    document.addEventListener("pointerdown", down, true);
    document.addEventListener("pointerup", up, true);
    document.addEventListener("pointercancel", up, true);
    return () => {
      document.removeEventListener("pointerdown", down, true);
      document.removeEventListener("pointerup", up, true);
      document.removeEventListener("pointercancel", up, true);
    };
  }, []);
  const register: UseFormRegister<T> = (name, registerOptions) => {
    const field = form.register(name, registerOptions);
    return { ...field, onBlur: async (event) => (pressingSubmit.current ? undefined : field.onBlur(event)) };
  };

  // One submission at a time: set on submit, cleared when validation fails or the action has finished.
  const busy = useRef(false);
  useEffect(() => {
    if (!pending) busy.current = false;
  }, [pending]);

  // Errors found by the server land on the same fields, and focus moves to the first one.
  const { setError, setFocus } = form;
  const focusOnMessage = useRef(options.focusOnMessage);
  focusOnMessage.current = options.focusOnMessage;
  useEffect(() => {
    if (state === initialFormState || state.ok) return;
    const entries = Object.entries(state.fieldErrors ?? {});
    entries.forEach(([name, message], index) => {
      setError(name as Path<T>, { type: "server", message }, { shouldFocus: index === 0 });
    });
    const pick = focusOnMessage.current;
    const target = typeof pick === "function" ? pick(state) : pick;
    if (entries.length === 0 && target) setFocus(target, { shouldSelect: true });
  }, [state, setError, setFocus]);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    const element = event.currentTarget;
    event.preventDefault();
    if (busy.current) return;
    busy.current = true;
    void form.handleSubmit(
      () => startTransition(() => formAction(new FormData(element))),
      () => {
        busy.current = false;
      },
    )(event);
  }

  /**
   * Whether a field should carry autofocus: the first one the server found in error (or the focusOnMessage
   * field). That is how focus reaches it without JavaScript, on the page the plain form post returns;
   * with JavaScript the effect above moves it.
   */
  function autoFocus(name: Path<T>): boolean | undefined {
    if (state === initialFormState || state.ok) return undefined;
    const firstError = Object.keys(state.fieldErrors ?? {})[0];
    const pick = focusOnMessage.current;
    const target = firstError ?? (typeof pick === "function" ? pick(state) : pick);
    return target === name || undefined;
  }

  /** The message for a field: react-hook-form's once hydrated, the server's before that (or without JS). */
  function errorFor(name: Path<T>): string | undefined {
    const error = form.formState.errors[name]?.message;
    if (hydrated) return typeof error === "string" ? error : undefined;
    return state.fieldErrors?.[name];
  }

  const enhanced: UseFormReturn<T> = { ...form, register };
  return { state, form: enhanced, formAction, pending, onSubmit, errorFor, autoFocus, hydrated };
}
