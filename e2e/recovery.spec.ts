import AxeBuilder from "@axe-core/playwright";
import type { Browser, BrowserContext, Cookie, Page } from "@playwright/test";
import { waitForCode, waitForMail } from "../testing/mailbox";
import { expect, test } from "./support/fixtures";
import { activeAccountThroughApi, endResendCooldown, hydrated, logIn } from "./support/walk";
import { newPerson, type Person } from "../testing/people";

/**
 * Getting back in, through the browser, against the production build: password reset, change of password and
 * of email on the account page, and sign-in by code (global-setup starts the app with
 * SIGN_IN_BY_CODE=true), each with JavaScript on and off, mail read from the SMTP sink; axe on every
 * new page.
 *
 * Accounts are set up through the JSON API (register, code from the sink, verify). The code mailed at
 * signup starts the address's 60-second send cooldown, which every purpose shares: a reset or sign-in
 * code asked for right after would be refused silently (the API and the pages answer alike, and no mail
 * goes out). Waiting a minute per test is too slow, so the specs end the cooldown the way walk.spec.ts
 * does: endResendCooldown deletes `limit:{emailId}:send:cooldown` in the test's Redis (emailId as
 * lib/codes/limits.ts derives it from AUTH_SECRET, which global-setup shares as E2E_AUTH_SECRET).
 */

test.describe.configure({ mode: "parallel" });

/** A fresh browser (own cookie jar) for the same visitor, signed in over POST /api/login. */
async function otherSession(browser: Browser, baseURL: string, clientIp: string, person: Person): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL, extraHTTPHeaders: { "x-forwarded-for": clientIp } });
  const res = await context.request.post("/api/login", { data: { email: person.email, password: person.password } });
  expect(res.status(), await res.text()).toBe(200);
  return context;
}

async function sessionCookies(context: BrowserContext): Promise<Cookie[]> {
  const cookies = (await context.cookies()).filter((c) => /session-token/.test(c.name));
  expect(cookies.length, "a session cookie").toBeGreaterThan(0);
  return cookies;
}

/** Opens /account in a fresh browser holding only `cookies`: true when the account page answers. */
async function cookiesOpenAccount(browser: Browser, baseURL: string, clientIp: string, cookies: Cookie[]): Promise<boolean> {
  const context = await browser.newContext({ baseURL, extraHTTPHeaders: { "x-forwarded-for": clientIp } });
  try {
    await context.addCookies(cookies);
    const page = await context.newPage();
    await page.goto("/account");
    return new URL(page.url()).pathname === "/account";
  } finally {
    await context.close();
  }
}

async function submit(page: Page, javaScript: boolean, button: RegExp | string) {
  const target = page.getByRole("button", { name: button });
  if (javaScript) await hydrated(target);
  await target.click();
}

async function logInOnPage(page: Page, person: Person, javaScript: boolean) {
  await page.goto("/login");
  if (javaScript) await hydrated(page.getByRole("button", { name: /^log in$/i }));
  await logIn(page, person);
  await expect(page).toHaveURL(/\/account$/);
}

const NEW_PASSWORD = "quiet orchard bicycle meadow 77";

function flows(javaScript: boolean) {
  test("forgot password: code by email, new password twice, signed in; a session from before no longer opens the account", async ({
    page,
    browser,
    baseURL,
    clientIp,
  }) => {
    const person = newPerson("reset");
    await activeAccountThroughApi(page.request, person);
    // A session signed in before the reset, kept as a bare cookie.
    const before = await otherSession(browser, baseURL!, clientIp, person);
    const oldCookies = await sessionCookies(before);
    await before.close();
    expect(await cookiesOpenAccount(browser, baseURL!, clientIp, oldCookies), "the old session works before the reset").toBe(true);
    // The signup code started the shared 60 s send cooldown: end it (see the note at the top).
    await endResendCooldown(person.email);

    await page.goto(`/login?email=${encodeURIComponent(person.email)}`);
    await page.getByRole("link", { name: /forgot your password/i }).click();
    await expect(page).toHaveURL(/\/forgot-password/);
    await expect(page.getByLabel("Email")).toHaveValue(person.email);
    const askedAt = Date.now();
    await submit(page, javaScript, /send me a reset code/i);

    await expect(page).toHaveURL(/\/reset-password\?.*sent=1/);
    await expect(page.getByText(/reset code is on its way/i)).toBeVisible();
    const mail = await waitForMail(person.email, { after: askedAt, predicate: (m) => /password reset code/i.test(m.subject) });
    expect(mail.subject).not.toMatch(/\d{6}/);
    const code = await waitForCode(person.email, { after: askedAt, predicate: (m) => /password reset code/i.test(m.subject) });

    await page.getByLabel("Reset code").fill(code);
    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Repeat new password").fill(NEW_PASSWORD);
    const resetAt = Date.now();
    await submit(page, javaScript, /change password/i);

    // Signed in with the new password, on the account page.
    await expect(page).toHaveURL(/\/account\?changed=password/);
    await expect(page.getByTestId("account-email")).toHaveText(person.email);
    await expect(page.getByText(/your password was changed/i).first()).toBeVisible();
    const notice = await waitForMail(person.email, { after: resetAt, predicate: (m) => /password was changed/i.test(m.subject) });
    expect(notice.text).not.toMatch(/\b\d{6}\b/);

    // The session from before the reset ended: its cookie now leads to the login page.
    expect(await cookiesOpenAccount(browser, baseURL!, clientIp, oldCookies), "the old session after the reset").toBe(false);
    // The new password logs in; the old one does not.
    const fresh = await browser.newContext({ baseURL, extraHTTPHeaders: { "x-forwarded-for": clientIp } });
    expect((await fresh.request.post("/api/login", { data: { email: person.email, password: person.password } })).status()).toBe(401);
    expect((await fresh.request.post("/api/login", { data: { email: person.email, password: NEW_PASSWORD } })).status()).toBe(200);
    await fresh.close();
  });

  test("change password on the account page: this session continues, the other one ends", async ({ page, browser, baseURL, clientIp }) => {
    const person = newPerson("chpw");
    await activeAccountThroughApi(page.request, person);
    const other = await otherSession(browser, baseURL!, clientIp, person);
    const otherCookies = await sessionCookies(other);
    await other.close();
    await logInOnPage(page, person, javaScript);

    await page.getByLabel("Current password").fill(person.password);
    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Repeat new password").fill(NEW_PASSWORD);
    const changedAt = Date.now();
    await submit(page, javaScript, /^change password$/i);

    await expect(page).toHaveURL(/\/account\?changed=password/);
    await expect(page.getByText(/your password was changed\. every other session was signed out/i)).toBeVisible();
    await waitForMail(person.email, { after: changedAt, predicate: (m) => /password was changed/i.test(m.subject) });
    // This session carries on under the new session version...
    await page.goto("/account");
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByTestId("account-email")).toHaveText(person.email);
    // ...the other one ended.
    expect(await cookiesOpenAccount(browser, baseURL!, clientIp, otherCookies), "the other session after the change").toBe(false);
  });

  test("change password with a wrong current password changes nothing", async ({ page }) => {
    const person = newPerson("chpw-wrong");
    await activeAccountThroughApi(page.request, person);
    await logInOnPage(page, person, javaScript);

    await page.getByLabel("Current password").fill("not my password at all 99");
    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Repeat new password").fill(NEW_PASSWORD);
    await submit(page, javaScript, /^change password$/i);

    await expect(page.getByText(/your current password is not right/i).first()).toBeVisible();
    const res = await page.request.post("/api/login", { data: { email: person.email, password: person.password } });
    expect(res.status()).toBe(200);
  });

  test("change email on the account page: code to the new address, then the account shows it", async ({ page }) => {
    const person = newPerson("chmail");
    const newEmail = newPerson("chmail-new").email;
    await activeAccountThroughApi(page.request, person);
    await logInOnPage(page, person, javaScript);

    await page.getByLabel("New email").fill(newEmail);
    // /account has other password fields (second factor, deletion): this one is the email change's.
    await page.getByRole("region", { name: "Change email" }).getByLabel("Password", { exact: true }).fill(person.password);
    const askedAt = Date.now();
    await submit(page, javaScript, /send a code to the new address/i);

    await expect(page).toHaveURL(/\/account\/email\?to=/);
    const confirmPage = page.url();
    await expect(page.getByText(newEmail).first()).toBeVisible();
    const mail = await waitForMail(newEmail, { after: askedAt });
    expect(mail.subject).toMatch(/confirm your new address/i);
    const code = await waitForCode(newEmail, { after: askedAt });

    // Until the code is entered, nothing changed.
    await page.goto("/account");
    await expect(page.getByTestId("account-email")).toHaveText(person.email);
    await page.goto(confirmPage);

    await page.getByLabel("Code").fill(code);
    const confirmedAt = Date.now();
    await submit(page, javaScript, /confirm new email/i);

    await expect(page).toHaveURL(/\/account\?changed=email/);
    await expect(page.getByTestId("account-email")).toHaveText(newEmail);
    await waitForMail(person.email, { after: confirmedAt, predicate: (m) => /login email was changed/i.test(m.subject) });
    // This session carries on; the new address logs in, the old one does not.
    await page.goto("/account");
    await expect(page.getByTestId("account-email")).toHaveText(newEmail);
    expect((await page.request.post("/api/login", { data: { email: person.email, password: person.password } })).status()).toBe(401);
    expect((await page.request.post("/api/login", { data: { email: newEmail, password: person.password } })).status()).toBe(200);
  });

  test("sign in by code from the login page", async ({ page }) => {
    const person = newPerson("code");
    await activeAccountThroughApi(page.request, person);
    await endResendCooldown(person.email);

    await page.goto(`/login?email=${encodeURIComponent(person.email)}`);
    await page.getByRole("link", { name: /email me a sign-in code/i }).click();
    await expect(page).toHaveURL(/\/login-code/);
    await expect(page.getByLabel("Email")).toHaveValue(person.email);
    const askedAt = Date.now();
    await submit(page, javaScript, /email me a sign-in code/i);

    await expect(page).toHaveURL(/\/login-code\/verify\?email=/);
    const code = await waitForCode(person.email, { after: askedAt, predicate: (m) => /sign-in code/i.test(m.subject) });
    await page.getByLabel("Sign-in code").fill(code);
    const signedInAt = Date.now();
    await submit(page, javaScript, /^sign in$/i);

    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByTestId("account-email")).toHaveText(person.email);
    await waitForMail(person.email, { after: signedInAt, predicate: (m) => /new sign-in/i.test(m.subject) });
  });
}

test.describe("with JavaScript", () => {
  flows(true);

  test("the shared schema, loaded after the page is live, checks fields as they are left, before anything is posted", async ({ page }) => {
    const posts: string[] = [];
    page.on("request", (request) => {
      if (request.method() === "POST") posts.push(request.url());
    });
    await page.goto("/forgot-password");
    const email = page.getByLabel("Email");
    await hydrated(page.getByRole("button", { name: /code/i }));
    await email.fill("not-an-address");
    await email.press("Tab");
    await expect(page.getByText("Enter a valid email address, like name@example.com.")).toBeVisible();
    await expect(email).toHaveAttribute("aria-invalid", "true");

    await page.goto("/reset-password?email=someone%40example.com&sent=1");
    const code = page.getByLabel("Reset code");
    await hydrated(page.getByRole("button", { name: /change password/i }));
    await code.fill("12");
    await code.press("Tab");
    await expect(page.getByText("Enter the 6-digit code from the email.")).toBeVisible();
    expect(posts, "nothing was posted").toEqual([]);
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });
  flows(false);
});

// ---- axe on every new page ---------------------------------------------------------------------------

async function expectAxeClean(page: Page, name: string) {
  for (const colorScheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme, reducedMotion: "reduce" });
    // The colour transitions the scheme switch starts must end before axe reads contrast (a fixed wait
    // is not enough on a busy machine).
    await page.waitForTimeout(50);
    await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== "running"));
    const { violations } = await new AxeBuilder({ page }).analyze();
    const found = violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) }));
    expect.soft(found, `axe on ${name} (${colorScheme})`).toEqual([]);
  }
}

test.describe("axe", () => {
  test("/forgot-password", async ({ page }) => {
    await page.goto("/forgot-password");
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await expectAxeClean(page, "/forgot-password");
  });

  test("/reset-password (after a request, and with a refused code)", async ({ page }) => {
    const email = newPerson("axe-reset").email;
    await page.goto(`/reset-password?email=${encodeURIComponent(email)}&sent=1`);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await expectAxeClean(page, "/reset-password");

    await page.getByLabel("Reset code").fill("123456");
    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Repeat new password").fill(NEW_PASSWORD);
    await submit(page, true, /change password/i);
    await expect(page.getByRole("alert").first()).toBeVisible();
    await expectAxeClean(page, "/reset-password with an error");
  });

  test("/login-code", async ({ page }) => {
    await page.goto("/login-code");
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await expectAxeClean(page, "/login-code");
  });

  test("/login-code/verify", async ({ page }) => {
    await page.goto(`/login-code/verify?email=${encodeURIComponent(newPerson("axe-code").email)}`);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await expectAxeClean(page, "/login-code/verify");
  });

  test("/account (with the settings) and /account/email", async ({ page }) => {
    const person = newPerson("axe-account");
    await activeAccountThroughApi(page.request, person);
    await logInOnPage(page, person, true);
    await expectAxeClean(page, "/account");

    await page.goto(`/account/email?to=${encodeURIComponent(newPerson("axe-new").email)}`);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await expectAxeClean(page, "/account/email");
  });
});
