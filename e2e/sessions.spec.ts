import type { Page } from "@playwright/test";
import { waitForCode } from "../testing/mailbox";
import { expect, test } from "./support/fixtures";
import { activeAccountThroughApi, enterCode, logIn, registerThroughForm } from "./support/walk";
import { newPerson } from "../testing/people";
import { cspDirectives } from "../testing/csp";

/**
 * What the browser sees of the hardening: the security headers and the nonce-based CSP on per-request pages, the
 * app's own scripts running under that CSP, and a logout that ends the session for every copy of its
 * cookie.
 */

test.describe.configure({ mode: "parallel" });

/** Console messages about the Content Security Policy, and uncaught errors, for the page's lifetime. */
function watchScripts(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (/content security policy/i.test(message.text())) problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  return problems;
}

test("pages rendered per request carry the security headers and a fresh CSP nonce, with no 'unsafe-inline' for scripts", async ({ page }) => {
  // /verify reads the registration cookie and the store: never prerendered (e2e/static-pages.spec.ts has those).
  const response = await page.goto("/verify");
  expect(response?.status()).toBe(200);
  const headers = response!.headers();
  const csp = headers["content-security-policy"];
  expect(csp, "a Content-Security-Policy header").toBeTruthy();

  const policy = cspDirectives(csp ?? "");
  const scriptSrc = policy.get("script-src") ?? "";
  const nonce = /'nonce-([A-Za-z0-9+/=_-]{16,})'/.exec(scriptSrc)?.[1];
  expect(nonce, `a nonce in ${scriptSrc}`).toBeTruthy();
  expect(scriptSrc).not.toContain("'unsafe-inline'");
  expect(scriptSrc).not.toContain("'unsafe-eval'");
  expect(policy.get("object-src")).toBe("object-src 'none'");
  expect(policy.get("base-uri")).toBe("base-uri 'none'");
  expect(policy.get("frame-ancestors")).toBe("frame-ancestors 'none'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["x-frame-options"]).toBe("DENY");
  expect(headers["referrer-policy"]).toBeTruthy();

  // Every script the page ships carries this response's nonce.
  const html = await response!.text();
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  expect(scripts.length).toBeGreaterThan(0);
  expect(scripts.filter((tag) => !tag.includes(`nonce="${nonce}"`))).toEqual([]);

  // A nonce is used once: the next response has another.
  const again = await page.request.get("/verify");
  const nextNonce = /'nonce-([^']+)'/.exec(again.headers()["content-security-policy"] ?? "")?.[1];
  expect(nextNonce).toBeTruthy();
  expect(nextNonce).not.toBe(nonce);
});

test("the app's scripts run under the CSP on every page of the walk, without a violation", async ({ page }) => {
  const problems = watchScripts(page);

  // Hydrated: the register form checks fields in the browser, without posting anything.
  await page.goto("/register");
  const posts: string[] = [];
  page.on("request", (request) => {
    if (request.method() === "POST") posts.push(request.url());
  });
  expect(await page.evaluate(() => Array.isArray((self as unknown as { __next_f?: unknown }).__next_f)), "Next's inline scripts ran").toBe(true);
  await page.getByRole("button", { name: /create account/i }).click();
  await expect(page.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  expect(posts, "the empty form was stopped in the browser").toEqual([]);
  page.removeAllListeners("request");

  // The rest of the walk, each page's scripts included (the sixth digit submits only with JavaScript).
  const person = newPerson("csp");
  const sentAfter = await registerThroughForm(page, person);
  await enterCode(page, await waitForCode(person.email, { after: sentAfter }), true);
  await expect(page).toHaveURL(/\/login\?(.*&)?verified=1/);
  await logIn(page, person);
  await expect(page).toHaveURL(/\/account$/);
  await page.getByRole("button", { name: /log out/i }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto("/");

  expect(problems).toEqual([]);
});

test("logout ends the session: a copy of the cookie taken before no longer opens the account", async ({ page, browser, baseURL, clientIp }) => {
  const person = newPerson("session");
  await activeAccountThroughApi(page.request, person);
  await page.goto("/login");
  await logIn(page, person);
  await expect(page).toHaveURL(/\/account$/);

  const sessionCookies = (await page.context().cookies()).filter((cookie) => /session-token/.test(cookie.name));
  expect(
    sessionCookies.map((cookie) => cookie.name),
    "the Auth.js session cookie",
  ).not.toEqual([]);

  const openAccountWith = async (cookies: typeof sessionCookies) => {
    const other = await browser.newContext({ baseURL, extraHTTPHeaders: { "x-forwarded-for": clientIp } });
    try {
      await other.addCookies(cookies);
      const otherPage = await other.newPage();
      await otherPage.goto("/account");
      return {
        url: new URL(otherPage.url()).pathname,
        email: await otherPage
          .getByTestId("account-email")
          .textContent({ timeout: 1_000 })
          .catch(() => null),
      };
    } finally {
      await other.close();
    }
  };

  // The copy works while the session lasts (so the check below means something)...
  expect(await openAccountWith(sessionCookies)).toEqual({ url: "/account", email: person.email });

  await page.getByRole("button", { name: /log out/i }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto("/account");
  await expect(page).toHaveURL(/\/login/);

  // ...and not after logout, although the cookie itself has not expired.
  expect((await openAccountWith(sessionCookies)).url).toBe("/login");
});
