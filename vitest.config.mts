import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    environment: "node",
    include: ["lib/**/*.test.ts", "e2e/support/**/*.test.ts", "tests/**/*.test.ts"],
    exclude: ["e2e/**/*.spec.ts", "node_modules/**"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
