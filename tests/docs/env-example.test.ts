import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DOCTOR_VARIABLES } from "@/scripts/support/variables";

/** The variables lib/platform/config.ts's zod schema reads, taken from its source so a new one cannot be forgotten here. */
function configVariables(): string[] {
  const source = readFileSync(path.join(import.meta.dirname, "../../lib/platform/config.ts"), "utf8");
  const schema = source.slice(source.indexOf("const envSchema = z.object({"), source.indexOf("});", source.indexOf("const envSchema")));
  const names = [...schema.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
  expect(names.length).toBeGreaterThan(10);
  // Set by Next.js itself during `next build`: nothing for an operator to configure.
  return names.filter((n) => n !== "NEXT_PHASE");
}

describe("documentation of the environment", () => {
  it(".env.example mentions every variable lib/platform/config.ts reads", () => {
    const example = readFileSync(path.join(import.meta.dirname, "../../.env.example"), "utf8");
    const missing = configVariables().filter((name) => !new RegExp(`^#?\\s*${name}=|\\b${name}\\b`, "m").test(example));
    expect(missing).toEqual([]);
  });

  it(".env.example holds no value that looks like a real secret", () => {
    const example = readFileSync(path.join(import.meta.dirname, "../../.env.example"), "utf8");
    const assignments = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=(.*)$/gm)];
    expect(assignments.length).toBeGreaterThan(10);
    for (const [, name, value] of assignments) {
      // Uncommented assignments would override a real environment when copied: all lines stay commented.
      expect(example).not.toMatch(new RegExp(`^${name}=`, "m"));
      if (/(SECRET|TOKEN|PASSWORD|API_KEY)$/.test(name!)) expect(value).toMatch(/your|replace|eyJhbGciOi\.\.\./);
    }
  });

  it("npm run doctor lists every variable lib/platform/config.ts reads", () => {
    expect(configVariables().filter((name) => !DOCTOR_VARIABLES.includes(name))).toEqual([]);
  });
});
