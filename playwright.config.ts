import { existsSync } from "node:fs";
import { defineConfig } from "@playwright/test";

// Debian's Chromium by default; CHROMIUM_PATH overrides; with neither, Playwright's own browser.
const executablePath = process.env.CHROMIUM_PATH ?? (existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined);

export default defineConfig({
  testDir: "e2e",
  testMatch: "**/*.spec.ts",
  // e2e/global-setup.ts builds if needed, starts Redis, the SMTP sink and `next start`, and sets
  // BASE_URL / E2E_MAILBOX_URL / E2E_REDIS_URL / E2E_DATABASE_URL for the workers.
  globalSetup: "./e2e/global-setup.ts",
  workers: 2,
  // On CI a failed test runs once more (two cores shared by two browsers and several servers stall now and
  // then): one that passes then counts as passed, and Playwright's list and npm test's summary name it flaky,
  // with the first failure's error, screenshot and trace kept.
  retries: process.env.CI ? 1 : 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"], ["json", { outputFile: "test-results/playwright.json" }]],
  projects: [
    // Every spec, against the app on a local file database and Redis over TCP.
    { name: "chromium" },
    // The walk again on the production stack's other parts: a remote libSQL server (sqld, JWT over
    // WebSocket), and the code store through the Upstash REST adapter (testing/services/upstash-bridge.ts).
    { name: "walk-sqld", testMatch: "walk.spec.ts", metadata: { baseUrlVariable: "BASE_URL_SQLD" } },
    { name: "walk-upstash", testMatch: "walk.spec.ts", metadata: { baseUrlVariable: "BASE_URL_UPSTASH" } },
  ],
  // A subfolder: Playwright empties outputDir at start, and test-results/ also holds the other reports.
  outputDir: "test-results/playwright",
  use: {
    // Workers load this file after globalSetup ran, so BASE_URL is set there (see also e2e/support/fixtures.ts).
    baseURL: process.env.BASE_URL,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
});
