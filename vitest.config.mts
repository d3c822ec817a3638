import path from "node:path";
import { defineConfig } from "vitest/config";

/** The suites that reach db/: run a second time on a real libSQL server (testing/test-database.ts). */
const DATABASE_SUITES = [
  "tests/service/signup-verify-login.test.ts",
  "tests/service/code-purposes.test.ts",
  "tests/service/unverified-cleanup.test.ts",
  "tests/service/audit-log.test.ts",
  "tests/service/admin-area.test.ts",
  "tests/service/auth-metrics.test.ts",
  "tests/service/passkeys.test.ts",
];

// Suites that run whole builds of a copy of the repository: the "vercel" project, run on its own at the end.
const BUILD_SUITES = ["tests/contract/vercel-build.test.ts", "tests/contract/server-only-guard.test.ts"];

export default defineConfig({
  resolve: {
    alias: {
      "@": path.resolve(import.meta.dirname),
      // Outside Next's react-server layer the marker throws; the tests run server modules on plain Node.
      "server-only": path.resolve(import.meta.dirname, "node_modules/server-only/empty.js"),
    },
  },
  test: {
    environment: "node",
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: "file",
          include: ["lib/**/*.test.ts", "testing/**/*.test.ts", "tests/**/*.test.ts"],
          exclude: ["e2e/**/*.spec.ts", "node_modules/**", ...BUILD_SUITES],
        },
      },
      {
        extends: true,
        test: { name: "sqld", include: DATABASE_SUITES, env: { TEST_DATABASE: "sqld" } },
      },
      // A full `vercel build` (about 2 minutes): scripts/test-all.mjs runs it on its own, after the browser tests.
      { extends: true, test: { name: "vercel", include: BUILD_SUITES } },
    ],
  },
});
