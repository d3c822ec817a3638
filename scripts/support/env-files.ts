import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseEnv } from "node:util";

/**
 * Loads .env files for the command-line scripts the way `next dev` / `next start` do, so a script sees the same
 * configuration as the app: `.env.<mode>.local`, `.env.local` (not in test), `.env.<mode>`, `.env`, where mode is
 * NODE_ENV (production, test, else development). Variables already in the environment win, then earlier files.
 * Files given with --env-file come first. Returns the files read (names only; values are never printed).
 */
export function loadEnvFiles(extraFiles: string[] = [], root = process.cwd()): string[] {
  const env = process.env;
  const mode = env.NODE_ENV === "production" ? "production" : env.NODE_ENV === "test" ? "test" : "development";
  const standard = [`.env.${mode}.local`, ...(mode === "test" ? [] : [".env.local"]), `.env.${mode}`, ".env"];
  const loaded: string[] = [];
  for (const file of [...extraFiles, ...standard]) {
    const full = path.resolve(root, file);
    if (!existsSync(full)) {
      if (extraFiles.includes(file)) throw new Error(`--env-file ${file}: no such file`);
      continue;
    }
    const values = parseEnv(readFileSync(full, "utf8"));
    for (const [key, value] of Object.entries(values)) {
      if (env[key] === undefined && value !== undefined) env[key] = value;
    }
    loaded.push(path.relative(root, full) || file);
  }
  return loaded;
}
