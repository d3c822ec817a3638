"use client";

import { standardSchemaResolver } from "@hookform/resolvers/standard-schema";
import { startTransition, useActionState, useEffect, useState, type FormEvent } from "react";
import { useForm, type FieldValues, type Path } from "react-hook-form";
import { initialFormState, type FormState } from "@/lib/form-state";

type Action = (state: FormState, formData: FormData) => Promise<FormState>;

/**
 * A server-action form enhanced by react-hook-form. Without JavaScript the <form action> posts and the
 * server's field errors render; with it, the same schema checks each field as the person leaves it, and
 * the action runs only when the form is valid.
 */
export function useActionForm<T extends FieldValues>(
  schema: Parameters<typeof standardSchemaResolver>[0],
  action: Action,
  defaultValues: Partial<T>,
) {
  const [state, formAction, pending] = useActionState(action, initialFormState);
  const form = useForm<T>({
    resolver: standardSchemaResolver(schema as never),
    mode: "onTouched",
    defaultValues: defaultValues as never,
  });
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);

  // Errors found by the server land on the same fields, and focus moves to the first one.
  useEffect(() => {
    const entries = Object.entries(state.fieldErrors ?? {});
    entries.forEach(([name, message], index) => {
      form.setError(name as Path<T>, { type: "server", message }, { shouldFocus: index === 0 });
    });
  }, [state, form]);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    const element = event.currentTarget;
    void form.handleSubmit(() => {
      startTransition(() => formAction(new FormData(element)));
    })(event);
  }

  /** The message for a field: react-hook-form's once hydrated, the server's before that (or without JS). */
  function errorFor(name: Path<T>): string | undefined {
    const error = form.formState.errors[name]?.message;
    if (hydrated) return typeof error === "string" ? error : undefined;
    return state.fieldErrors?.[name];
  }

  return { state, form, formAction, pending, onSubmit, errorFor };
}
