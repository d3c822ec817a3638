import { test as base } from "@playwright/test";

export { expect } from "@playwright/test";

/** Playwright's `test`, with baseURL taken from the app that e2e/global-setup.ts started. */
export const test = base.extend({
  baseURL: async ({}, use) => {
    const url = process.env.BASE_URL;
    if (!url) throw new Error("BASE_URL is not set: run the specs through playwright.config.ts (its globalSetup starts the app).");
    await use(url);
  },
});
