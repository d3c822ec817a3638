import { emailSchema } from "../schemas";

export type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** A well-formed, normalised email from ?email=, or "". */
export function emailFromParams(params: Record<string, string | string[] | undefined>, name = "email"): string {
  const parsed = emailSchema.safeParse(typeof params[name] === "string" ? params[name] : "");
  return parsed.success ? parsed.data : "";
}
