import { mkdirSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import type { Page, TestInfo } from "@playwright/test";
import { OUTCOMES } from "../lib/web/outcomes";
import { expect, test } from "./support/fixtures";
import { activeAccountThroughApi, alertWith, enterCode, holdRegistration, hydrated, logIn, registerThroughApi, registerThroughForm } from "./support/walk";
import { newPerson, wrongCodeFor } from "../testing/people";
import { waitForCode } from "../testing/mailbox";

/**
 * Every screen and state of the walk: axe (all its default rules, WCAG and best practice) finds nothing,
 * at a phone (390 x 844) and a desktop (1280 x 800) size, in light and dark. Each of those is also saved
 * as a screenshot under test-results/screenshots/ (an artifact, not committed).
 */

// Each screen is eight axe runs and screenshots; two screens and a signup with its mail can pass 30 s on a busy
// machine, so each test has a minute.
test.describe.configure({ mode: "parallel", timeout: 60_000 });

const VIEWPORTS = [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
] as const;
const SCHEMES = ["light", "dark"] as const;

function screenshotDir(testInfo: TestInfo): string {
  // Beside Playwright's outputDir (test-results/playwright), which is emptied at each run.
  const dir = join(testInfo.project.outputDir, "..", "screenshots");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Screenshots and axe for the page as it stands, in each size and colour scheme. */
async function checkScreen(page: Page, testInfo: TestInfo, name: string) {
  const dir = screenshotDir(testInfo);
  for (const colorScheme of SCHEMES) {
    await page.emulateMedia({ colorScheme, reducedMotion: "reduce" });
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport);
      // Colour transitions started by the scheme switch settle before axe reads contrast.
      await page.waitForTimeout(200);
      await page.screenshot({ path: join(dir, `${name}-${viewport.width}-${colorScheme}.png`), fullPage: true, animations: "disabled", caret: "hide" });
      const { violations } = await new AxeBuilder({ page }).analyze();
      const found = violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary?.split("\n").slice(1).join("; ") ?? ""}`),
      }));
      expect.soft(found, `axe on "${name}" at ${viewport.width} px, ${colorScheme}`).toEqual([]);
    }
  }
}

test("landing", async ({ page }, testInfo) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await checkScreen(page, testInfo, "01-landing");
});

test("register, empty", async ({ page }, testInfo) => {
  await page.goto("/register");
  await expect(page.getByLabel("Name")).toBeVisible();
  await checkScreen(page, testInfo, "02-register");
});

test("register, with field errors", async ({ page }, testInfo) => {
  await page.goto("/register");
  await page.getByLabel("Email").fill("not-an-address");
  await page.getByLabel("Password", { exact: true }).fill("short");
  await page.getByRole("button", { name: /create account/i }).click();
  await expect(page.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
  await checkScreen(page, testInfo, "03-register-errors");
});

test("verify, fresh and with a wrong code", async ({ page, baseURL }, testInfo) => {
  const person = newPerson("a11y");
  const { code, registration } = await registerThroughApi(page.request, person);
  await holdRegistration(page.context(), baseURL!, registration);
  await page.goto(`/verify?email=${encodeURIComponent(person.email)}&delivery=sent`);
  await expect(page.getByLabel("Verification code")).toBeVisible();
  await checkScreen(page, testInfo, "04-verify");

  await page.getByLabel("Verification code").fill(wrongCodeFor(code));
  await expect(alertWith(page, OUTCOMES.wrong_code.message)).toBeVisible();
  await checkScreen(page, testInfo, "05-verify-wrong-code");
});

test("login, empty and with invalid credentials", async ({ page }, testInfo) => {
  await page.goto("/login");
  await expect(page.getByLabel("Email")).toBeVisible();
  await checkScreen(page, testInfo, "06-login");

  await logIn(page, newPerson("nobody"));
  await expect(alertWith(page, OUTCOMES.invalid_credentials.message)).toBeVisible();
  await checkScreen(page, testInfo, "07-login-invalid");
});

test("login, unverified alert", async ({ page }, testInfo) => {
  const person = newPerson("a11y");
  await registerThroughApi(page.request, person);
  await page.goto("/login");
  await logIn(page, person);
  await expect(alertWith(page, OUTCOMES.unverified.message)).toBeVisible();
  await checkScreen(page, testInfo, "08-login-unverified");
});

test("account", async ({ page }, testInfo) => {
  const person = newPerson("a11y");
  await activeAccountThroughApi(page.request, person);
  await page.goto("/login");
  await logIn(page, person);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("account-email")).toHaveText(person.email);
  await checkScreen(page, testInfo, "09-account");
});

test.describe("passkeys", () => {
  // WebAuthn refuses IP-address origins: the same app, by name (see e2e/passkeys.spec.ts).
  test.use({ baseURL: process.env.BASE_URL?.replace("//127.0.0.1", "//localhost") });

  test("the passkey offer after verification, and the passkey list", async ({ page }, testInfo) => {
    // A signup, a verification, a login and two screens of eight checks each.
    test.setTimeout(90_000);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    const person = newPerson("a11y-passkey");
    const sentAfter = await registerThroughForm(page, person);
    await enterCode(page, await waitForCode(person.email, { after: sentAfter }), true);
    await logIn(page, person);
    const offer = page.getByRole("region", { name: "Sign in faster with a passkey" });
    await expect(offer).toBeVisible();
    await checkScreen(page, testInfo, "30-account-passkey-offer");

    await offer.getByRole("button", { name: "Add a passkey now" }).click();
    await expect(page.getByTestId("passkey")).toHaveCount(1);
    await checkScreen(page, testInfo, "31-account-passkeys");
  });

  test("the login page's passkey button", async ({ page }, testInfo) => {
    await page.goto("/login");
    await hydrated(page.getByRole("button", { name: "Sign in with a passkey" }));
    await checkScreen(page, testInfo, "32-login-passkey");
  });
});
