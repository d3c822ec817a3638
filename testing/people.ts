import { randomBytes } from "node:crypto";

/** The people and codes the tests make up: the browser specs, the HTTP suites and the service tests share them. */

export interface Person {
  name: string;
  email: string;
  password: string;
}

/** A person nobody else in the run uses: a fresh address per test keeps the tests independent. */
export function newPerson(prefix = "walk"): Person {
  return {
    name: "Ada Lovelace",
    email: `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 10)}@example.test`,
    // 15+ characters, not common, not built on the name, the address or the product name.
    password: "velvet hammock orbit lantern 42",
  };
}

/** A 6-digit code that is certainly not any of `codes`: the first one's sixth digit bumped, again while it hits another. */
export function wrongCodeFor(...codes: string[]): string {
  let guess = String((Number(codes[0]) + 1) % 1_000_000).padStart(6, "0");
  while (codes.includes(guess)) guess = String((Number(guess) + 1) % 1_000_000).padStart(6, "0");
  return guess;
}

/** An address nobody else in the run uses, recognisable by `label`. */
export const uniqueEmail = (label: string): string => `${label}-${Date.now()}-${randomBytes(3).toString("hex")}@example.test`;

/** A request context from a new client address per call (`${prefix}1` to `${prefix}250`, then round again): per-IP caps stay out of the way. */
export function clientContexts(prefix: string): () => { ip: string } {
  let n = 0;
  return () => ({ ip: `${prefix}${(n++ % 250) + 1}` });
}
