import { createHmac } from "node:crypto";
import { expect, type APIRequestContext, type BrowserContext, type Locator, type Page } from "@playwright/test";
import { waitForCode } from "../../testing/mailbox";
import type { Person } from "../../testing/people";
import { withRedisClient, type RedisClient } from "../../testing/services/redis-client";

/**
 * Steps and set-up the browser specs share. Everything goes through the app as a person (or an API
 * client) would; the Redis helpers only move time forward for a code or a cooldown, which the server
 * then has to handle on its own.
 */

// ---- Through the pages -------------------------------------------------------------------------------

/** Fills and sends the signup form; returns the time just before, for waitForCode's `after`. */
export async function registerThroughForm(page: Page, person: Person): Promise<number> {
  const response = await page.goto("/register");
  // Says what came instead of the form, should it ever not be there.
  await expect(page.getByLabel("Name"), `the signup form (GET /register answered ${response?.status()}, now at ${page.url()})`).toBeVisible({
    timeout: 15_000,
  });
  await page.getByLabel("Name").fill(person.name);
  await page.getByLabel("Email").fill(person.email);
  await page.getByLabel("Password", { exact: true }).fill(person.password);
  await page.getByLabel("Repeat password").fill(person.password);
  const before = Date.now();
  await page.getByRole("button", { name: /create account/i }).click();
  // A signup costs a hash and several database round trips (a remote libSQL server in one project): wait
  // for the page as a person would, not by the default 5 s.
  await expect(page).toHaveURL(/\/verify\?/, { timeout: 20_000 });
  return before;
}

/**
 * Enters a code on the verify page. With JavaScript the sixth digit submits by itself (so no click:
 * a click on top would send the code twice); without it, the person presses "Verify email".
 */
export async function enterCode(page: Page, code: string, javaScript: boolean): Promise<void> {
  const field = page.getByLabel("Verification code");
  // Typed before hydration, the sixth digit would have nothing to submit it.
  if (javaScript) await hydrated(field);
  await field.fill(code);
  if (!javaScript) await page.getByRole("button", { name: /verify email/i }).click();
}

export async function logIn(page: Page, person: Pick<Person, "email" | "password">): Promise<void> {
  await page.getByLabel("Email").fill(person.email);
  await page.getByLabel("Password", { exact: true }).fill(person.password);
  await page.getByRole("button", { name: /^log in$/i }).click();
}

/** Waits until React has hydrated `target` (its event handlers are attached). */
export async function hydrated(target: Locator): Promise<void> {
  await expect
    .poll(() => target.evaluate((el) => Object.keys(el).some((key) => key.startsWith("__reactProps$"))), { message: "React hydrated the page" })
    .toBe(true);
}

/** An error announced assertively (role="alert") that contains `text`. */
export function alertWith(page: Page, text: string | RegExp): Locator {
  return page.getByRole("alert").filter({ hasText: text });
}

/** A notice announced politely (role="status") that contains `text`. */
export function statusWith(page: Page, text: string | RegExp): Locator {
  return page.getByRole("status").filter({ hasText: text });
}

/** Presses Tab until `target` has focus (at most `max` times): how a keyboard user reaches a control. */
export async function tabTo(page: Page, target: Locator, max = 20): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return;
    await page.keyboard.press("Tab");
  }
  await expect(target, `reached by Tab within ${max} presses`).toBeFocused();
}

// ---- Through the JSON API (set-up for specs about a page, not about getting there) ---------------------

/** Registers over POST /api/register: the mailed code and the signup's registration token. */
export async function registerThroughApi(request: APIRequestContext, person: Person): Promise<{ code: string; registration: string }> {
  const before = Date.now();
  const res = await request.post("/api/register", { data: { name: person.name, email: person.email, password: person.password } });
  expect(res.status(), await res.text()).toBe(201);
  const { registration } = (await res.json()) as { registration: string };
  return { code: await waitForCode(person.email, { after: before }), registration };
}

/** Gives a browser the registration cookie the register page would have set (http, so no __Host- prefix). */
export async function holdRegistration(context: BrowserContext, baseURL: string, registration: string): Promise<void> {
  await context.addCookies([{ name: "registration", value: registration, url: baseURL, httpOnly: true, sameSite: "Lax" }]);
}

/** Registers and verifies over the API: an active account, not logged in. */
export async function activeAccountThroughApi(request: APIRequestContext, person: Person): Promise<void> {
  const { code, registration } = await registerThroughApi(request, person);
  const res = await request.post("/api/verify-otp", { data: { email: person.email, otp: code, registration } });
  expect(res.status(), await res.text()).toBe(200);
}

// ---- The code store ------------------------------------------------------------------------------------

/** The store's id for an address, derived as lib/platform/config.ts (hmacKey) and lib/codes/limits.ts (emailId) do. */
export function emailIdOf(email: string): string {
  const secret = process.env.E2E_AUTH_SECRET;
  if (!secret) throw new Error("E2E_AUTH_SECRET is not set: run the specs through playwright.config.ts (its globalSetup starts the app).");
  const hmacKey = createHmac("sha256", secret).update("verified-signup/otp-hmac/v1").digest();
  return createHmac("sha256", hmacKey).update(`email:${email.trim().toLowerCase()}`).digest("base64url").slice(0, 32);
}

async function withRedis<T>(run: (client: RedisClient) => Promise<T>): Promise<T> {
  const url = process.env.E2E_REDIS_URL;
  if (!url) throw new Error("E2E_REDIS_URL is not set: run the specs through playwright.config.ts.");
  return withRedisClient(url, run);
}

/**
 * Makes the address's live verification codes expired, as if their 10 minutes had passed: the record's
 * expiry fields (e1, and e2 for the code kept beside it) move into the past. The server still has to
 * tell "expired" from "wrong" on its own.
 */
export async function expireVerificationCodes(email: string): Promise<void> {
  const key = `code:{${emailIdOf(email)}}:verify_email`;
  await withRedis(async (client) => {
    const record = await client.hGetAll(key);
    // Guards the key derivation: a wrong key would leave the real record alone and prove nothing.
    expect(record.h1, `a live code record under ${key}`).toBeTruthy();
    const past = String(Date.now() - 60_000);
    await client.hSet(key, record.h2 ? { e1: past, e2: past } : { e1: past });
  });
}

/**
 * Ends the address's 60-second resend cooldown for one purpose (lib/codes/limits.ts sendLimits: `limit:{id}:send:cooldown:PURPOSE`) as
 * if the minute had passed, so a spec can ask for another code right after the one sent at signup.
 */
export async function endResendCooldown(email: string, purpose = "verify_email"): Promise<void> {
  const key = `limit:{${emailIdOf(email)}}:send:cooldown:${purpose}`;
  await withRedis(async (client) => {
    expect(await client.exists(key), `the cooldown key ${key} exists`).toBe(1);
    await client.del(key);
  });
}
