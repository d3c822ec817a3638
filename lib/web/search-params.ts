import { emailSchema } from "../schemas";

export type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** The entry of `table` that a query parameter names: only the table's own keys, never "constructor" or "__proto__". */
export function entryFor<T>(table: Record<string, T>, key: unknown): T | undefined {
  return typeof key === "string" && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** A well-formed, normalised email from ?email=, or "". */
export function emailFromParams(params: Record<string, string | string[] | undefined>, name = "email"): string {
  const parsed = emailSchema.safeParse(typeof params[name] === "string" ? params[name] : "");
  return parsed.success ? parsed.data : "";
}
