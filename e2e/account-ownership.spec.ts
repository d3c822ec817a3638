import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { totpCodeAt } from "../lib/credentials/totp";
import { expect, test } from "./support/fixtures";
import { waitForCode, waitForMail } from "../testing/mailbox";
import { activeAccountThroughApi, logIn } from "./support/walk";
import { newPerson } from "../testing/people";

/**
 * /account's own-account sections: the list of sessions (end one, end all others, each after the password
 * typed again), a customer's second
 * factor (turned on with the password, the app's code and a mailed code), "Download my data" and deleting
 * the account. Each with and without JavaScript, and axe clean in every state shown.
 */

async function axeClean(page: Page, state: string, javaScript: boolean) {
  // axe runs in the page, so only where JavaScript runs (the server sends the same markup either way).
  if (!javaScript) return;
  const { violations } = await new AxeBuilder({ page }).analyze();
  expect(
    violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    `axe on ${state}`,
  ).toEqual([]);
}

for (const javaScript of [true, false]) {
  test.describe(`${javaScript ? "with" : "without"} JavaScript`, () => {
    test.use({ javaScriptEnabled: javaScript });

    test("sessions: this device is marked, another one is ended (not with a wrong password), then all others", async ({ page, playwright, baseURL }) => {
      const person = newPerson(`sessions-${javaScript ? "js" : "nojs"}`);
      await activeAccountThroughApi(page.request, person);
      const others = await Promise.all(
        [1, 2].map(async () => {
          const other = await playwright.request.newContext({ baseURL });
          expect((await other.post("/api/login", { data: { email: person.email, password: person.password } })).status()).toBe(200);
          return other;
        }),
      );
      await page.goto("/login");
      await logIn(page, person);
      await page.waitForURL(/\/account/);
      const list = page.getByTestId("sessions-list");
      await expect(list.getByTestId("session")).toHaveCount(3);
      await expect(list.locator('[data-current="true"]')).toContainText("This device");
      await axeClean(page, "sessions list", javaScript);

      await list
        .getByRole("link", { name: /^End session/ })
        .first()
        .click();
      const confirm = page.getByTestId("end-session");
      await expect(confirm.getByRole("heading")).toContainText("End the session of");
      await expect(confirm.getByLabel("Your password")).toBeFocused();
      await confirm.getByLabel("Your password").fill("not the password at all");
      await confirm.getByRole("button", { name: "End that session" }).click();
      await expect(page.getByTestId("end-session").getByText("Your password is not right.").first()).toBeVisible();
      await axeClean(page, "a wrong password to end a session", javaScript);
      for (const other of others) expect((await other.get("/api/account/sessions")).status(), "a wrong password ended a session").toBe(200);
      await expect(page.getByTestId("end-session").getByLabel("Your password")).toBeFocused();
      await page.getByTestId("end-session").getByLabel("Your password").fill(person.password);
      await page.getByTestId("end-session").getByRole("button", { name: "End that session" }).click();
      await expect(page.getByTestId("sessions-notice")).toContainText("That session was ended");
      await expect(page.getByTestId("sessions-list").getByTestId("session")).toHaveCount(2);
      await axeClean(page, "one session ended", javaScript);

      await page.getByRole("link", { name: "End all other sessions" }).click();
      await page.getByTestId("end-session").getByLabel("Your password").fill(person.password);
      await page.getByTestId("end-session").getByRole("button", { name: "End every other session" }).click();
      await expect(page.getByTestId("sessions-notice")).toContainText("Every other session was ended");
      await expect(page.getByTestId("sessions-list").getByTestId("session")).toHaveCount(1);
      await expect(page.getByText("No other device is signed in.")).toBeVisible();
      await axeClean(page, "all others ended", javaScript);
      for (const other of others) {
        expect((await other.get("/api/account/sessions")).status()).toBe(401);
        await other.dispose();
      }
    });

    test("two-factor: password, then the app's code and the mailed code; the next login asks for it", async ({ page }) => {
      const person = newPerson(`totp-${javaScript ? "js" : "nojs"}`);
      await activeAccountThroughApi(page.request, person);
      await page.goto("/login");
      await logIn(page, person);
      await page.waitForURL(/\/account/);
      const section = page.locator("#two-factor");
      await axeClean(page, "two-factor off", javaScript);
      const before = Date.now();
      await section.getByLabel("Password").fill(person.password);
      await section.getByRole("button", { name: "Turn on two-factor authentication" }).click();
      await expect(section.getByTestId("totp-secret")).toBeVisible();
      await axeClean(page, "two-factor enrolment", javaScript);
      const emailCode = await waitForCode(person.email, { after: before - 1 });
      const secret = (await section.getByTestId("totp-secret").innerText()).replace(/\s/g, "");
      await section.getByLabel("Code from your app").fill(totpCodeAt(secret, Date.now()));
      await section.getByLabel("Code from the email").fill(emailCode);
      await section.getByRole("button", { name: "Turn on", exact: true }).click();
      await expect(section.getByTestId("two-factor-status")).toContainText("On.");
      await axeClean(page, "two-factor on", javaScript);
      const login = await page.request.post("/api/login", { data: { email: person.email, password: person.password } });
      expect(((await login.json()) as { error: { code: string } }).error.code).toBe("totp_required");
    });

    test("download my data, then delete the account with the password and a mailed code", async ({ page }) => {
      const person = newPerson(`delete-${javaScript ? "js" : "nojs"}`);
      await activeAccountThroughApi(page.request, person);
      await page.goto("/login");
      await logIn(page, person);
      await page.waitForURL(/\/account/);
      const exported = await page.request.get("/api/account/export");
      expect(exported.status()).toBe(200);
      expect(((await exported.json()) as { profile: { email: string } }).profile.email).toBe(person.email);
      await expect(page.getByRole("link", { name: "Download my data" })).toHaveAttribute("href", "/api/account/export");

      const section = page.locator("#delete-account");
      const before = Date.now();
      await section.getByLabel("Password").fill(person.password);
      await section.getByRole("button", { name: "Email me a code to delete my account" }).click();
      await expect(section.getByLabel("Code from the email")).toBeVisible();
      await axeClean(page, "deletion code sent", javaScript);
      const code = await waitForCode(person.email, { after: before - 1 });
      const deletedAt = Date.now();
      await section.getByLabel("Code from the email").fill(code);
      await section.getByRole("button", { name: "Delete my account for good" }).click();
      await page.waitForURL(/\/login/);
      expect((await waitForMail(person.email, { after: deletedAt - 1 })).subject).toMatch(/account was deleted/i);
      await page.goto("/account");
      await expect(page).toHaveURL(/\/login/);
    });
  });
}
