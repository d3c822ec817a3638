import { test as base } from "@playwright/test";

export { expect } from "@playwright/test";

/**
 * Playwright's `test`, with baseURL taken from the app that e2e/global-setup.ts started for the project: the
 * variable its metadata names (playwright.config.ts), BASE_URL by default.
 */
export const test = base.extend<{ clientIp: string }>({
  baseURL: async ({}, use, testInfo) => {
    const variable = (testInfo.project.metadata as { baseUrlVariable?: string }).baseUrlVariable ?? "BASE_URL";
    const url = process.env[variable];
    if (!url) throw new Error(`${variable} is not set: run the specs through playwright.config.ts (its globalSetup starts the app).`);
    await use(url);
  },
  // Each test is its own visitor behind the trusted proxy (TRUST_PROXY=true in global-setup).
  clientIp: async ({}, use, testInfo) => {
    await use(`10.${testInfo.workerIndex % 250}.${(testInfo.testId.charCodeAt(0) + testInfo.repeatEachIndex) % 250}.${1 + Math.floor(Math.random() * 250)}`);
  },
  extraHTTPHeaders: async ({ extraHTTPHeaders, clientIp }, use) => {
    await use({ ...extraHTTPHeaders, "x-forwarded-for": clientIp });
  },
});
