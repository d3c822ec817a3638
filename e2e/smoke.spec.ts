import { expect, test } from "./support/fixtures";

test("the landing page answers 200", async ({ page }) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
});
