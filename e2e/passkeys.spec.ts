import { createClient } from "@libsql/client";
import type { CDPSession, Page } from "@playwright/test";
import { Secret, TOTP } from "otpauth";
import { openDatabase } from "../db/client";
import { parseConfig } from "../lib/platform/config";
import { createOrPromoteStaff } from "../lib/staff/create-admin";
import { MemoryCodeStore } from "../lib/store/memory";
import { createSecondFactor } from "../lib/credentials/totp";
import { waitForCode, waitForMail } from "../testing/mailbox";
import { expect, test } from "./support/fixtures";
import { activeAccountThroughApi, enterCode, hydrated, logIn, registerThroughForm } from "./support/walk";
import { newPerson, type Person } from "../testing/people";

/**
 * Passkeys in Chromium, with the DevTools virtual authenticator (a platform authenticator that holds
 * discoverable credentials and verifies the user). Browsers refuse WebAuthn on an IP address, so these tests
 * open the app as http://localhost:PORT (the same server as BASE_URL's 127.0.0.1).
 */

test.describe.configure({ mode: "parallel" });
test.use({ baseURL: process.env.BASE_URL?.replace("//127.0.0.1", "//localhost") });

interface VirtualAuthenticator {
  cdp: CDPSession;
  authenticatorId: string;
}

async function virtualAuthenticator(page: Page, cdp?: CDPSession): Promise<VirtualAuthenticator> {
  const session = cdp ?? (await page.context().newCDPSession(page));
  await session.send("WebAuthn.enable");
  const { authenticatorId } = await session.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp: session, authenticatorId };
}

/** Logs out; the login page's autofill may sign the virtual authenticator's passkey straight back in after it. */
async function logOut(page: Page) {
  const signedOut = page.waitForURL(/\/login\?signedOut=1/, { waitUntil: "commit" });
  await page.getByRole("button", { name: "Log out" }).click();
  await signedOut;
}

test("register, verify, add the offered passkey, log out, sign in with it by button and by autofill, rename and remove it", async ({ page }) => {
  const { cdp, authenticatorId } = await virtualAuthenticator(page);
  const person = newPerson("passkey");
  const sentAfter = await registerThroughForm(page, person);
  await enterCode(page, await waitForCode(person.email, { after: sentAfter }), true);
  await expect(page).toHaveURL(/\/login\?verified=1/);
  await logIn(page, person);
  await expect(page).toHaveURL(/\/account$/);

  // Offered once, right after the first login following verification.
  const offer = page.getByRole("region", { name: "Sign in faster with a passkey" });
  const addedAfter = Date.now();
  await offer.getByRole("button", { name: "Add a passkey now" }).click();
  await expect(page).toHaveURL(/\/account\?passkey=added/);
  await expect(page.getByRole("status").filter({ hasText: "Your passkey was added" })).toBeVisible();
  await expect(page.getByTestId("passkey")).toHaveCount(1);
  await expect(page.getByRole("region", { name: "Sign in faster with a passkey" })).toHaveCount(0);
  const notice = await waitForMail(person.email, { after: addedAfter, predicate: (m) => /passkey was added/i.test(m.subject) });
  expect(notice.subject).toBe("A passkey was added to your Verified Signup account");
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(credentials).toHaveLength(1);
  expect(credentials[0]!.isResidentCredential).toBe(true);

  // By the browser's autofill (conditional mediation): armed as the login page loads; the virtual authenticator
  // answers it at once with its one passkey, where a person would pick it among the email field's suggestions.
  await logOut(page);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("account-email")).toHaveText(person.email);
  await expect(page.getByRole("region", { name: "Sign in faster with a passkey" })).toHaveCount(0);

  // By the button, without typing the address, in a browser that has no passkey autofill (so only the button can).
  await page.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
  await page.reload();
  await logOut(page);
  await hydrated(page.getByLabel("Email"));
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("account-email")).toHaveText(person.email);

  // Rename, then remove (the account keeps its password): a notice, and the passkey no longer signs in.
  const item = page.getByTestId("passkey");
  await hydrated(item.getByRole("button", { name: "Rename" }));
  await item.getByLabel("Name").fill("Work laptop");
  await item.getByRole("button", { name: "Rename" }).click();
  await expect(page).toHaveURL(/\/account\?passkey=renamed/);
  await expect(page.getByTestId("passkey")).toContainText("Work laptop");
  const removedAfter = Date.now();
  await page.getByRole("button", { name: "Remove the passkey Work laptop" }).click();
  await expect(page).toHaveURL(/\/account\?passkey=removed/);
  await expect(page.getByTestId("passkey")).toHaveCount(0);
  const removed = await waitForMail(person.email, { after: removedAfter, predicate: (m) => /passkey was removed/i.test(m.subject) });
  expect(removed.subject).toBe("A passkey was removed from your Verified Signup account");

  await logOut(page);
  await hydrated(page.getByLabel("Email"));
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "That passkey did not sign you in" })).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
});

async function addPasskeyFromAccount(page: Page) {
  const add = page.getByRole("region", { name: "Passkeys" }).getByRole("button", { name: "Add a passkey" });
  await hydrated(add);
  await add.click();
  await expect(page).toHaveURL(/\/account\?passkey=added/);
  await expect(page.getByTestId("passkey")).toHaveCount(1);
}

/** The auth_events the app recorded about an account (its database, read directly). */
async function eventsOf(email: string): Promise<string[]> {
  const client = createClient({ url: process.env.E2E_DATABASE_URL! });
  try {
    const result = await client.execute({
      sql: "select e.event from auth_events e join users u on u.id = e.user_id where u.email = ? order by e.id",
      args: [email],
    });
    return result.rows.map((row) => String(row.event));
  } finally {
    client.close();
  }
}

test("a cloned passkey that reports an old signature count is refused; a passkey sign-in ends the session it replaces", async ({
  page,
  browser,
  request,
  baseURL,
}) => {
  const person = newPerson("passkey-clone");
  await activeAccountThroughApi(request, person);
  const first = await virtualAuthenticator(page);
  await page.goto("/login");
  await logIn(page, person);
  await expect(page).toHaveURL(/\/account$/);
  const passwordSession = await page.context().cookies();
  await addPasskeyFromAccount(page);
  const [exported] = (await first.cdp.send("WebAuthn.getCredentials", { authenticatorId: first.authenticatorId })).credentials;

  // Used once (the autofill signs in as the login page loads): the server now holds a higher count.
  await logOut(page);
  await expect(page).toHaveURL(/\/account$/);
  const old = await browser.newContext({ baseURL });
  try {
    await old.addCookies(passwordSession);
    const oldPage = await old.newPage();
    await oldPage.goto("/account");
    await expect(oldPage).toHaveURL(/\/login/);
  } finally {
    await old.close();
  }

  // The copy taken before that use, in another authenticator, still says the old count.
  await first.cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: first.authenticatorId });
  const clone = await virtualAuthenticator(page, first.cdp);
  await clone.cdp.send("WebAuthn.addCredential", { authenticatorId: clone.authenticatorId, credential: { ...exported!, signCount: exported!.signCount } });
  await logOut(page);
  await expect(page.getByRole("alert").filter({ hasText: "That passkey did not sign you in" })).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
  // The audit row is written beside the answer, not before it.
  await expect.poll(() => eventsOf(person.email)).toContain("passkey_counter_refused");
});

/** An admin made by create-admin's core, its authenticator app already set up (as e2e/admin.spec.ts walks it); returns the TOTP secret. */
async function adminWithTotp(): Promise<Person & { secret: string }> {
  const person = newPerson("passkey-admin");
  const handle = openDatabase(process.env.E2E_DATABASE_URL!);
  await handle.ready;
  try {
    const config = parseConfig({ NODE_ENV: "test", AUTH_SECRET: process.env.E2E_AUTH_SECRET });
    const made = await createOrPromoteStaff(
      { db: handle.db, store: new MemoryCodeStore(), config },
      { email: person.email, role: "admin", name: "Ops Person", resetTotp: false },
      async () => ({ password: person.password, confirmation: person.password }),
    );
    const factor = createSecondFactor({ db: handle.db, config });
    const pending = await factor.pendingEnrolment({ id: made.user.id, email: person.email });
    const confirmed = await factor.confirmEnrolment(made.user.id, totpAt(pending!.secret, Date.now()), made.enrolmentCode!.code);
    expect(confirmed).toEqual({ ok: true });
    return { ...person, secret: pending!.secret };
  } finally {
    handle.client.close();
  }
}

const totpAt = (secret: string, timestamp: number) =>
  new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 }).generate({ timestamp });

test("an admin adds a passkey from a session opened with TOTP; signing in with the passkey alone then opens /admin", async ({ page }) => {
  const admin = await adminWithTotp();
  await virtualAuthenticator(page);
  await page.goto("/login");
  await logIn(page, admin);
  await page.getByLabel("Authentication code").fill(totpAt(admin.secret, Date.now() + 30_000));
  await page.getByLabel("Password", { exact: true }).fill(admin.password);
  await page.getByRole("button", { name: /^log in$/i }).click();
  await expect(page).toHaveURL(/\/account$/);
  await addPasskeyFromAccount(page);

  // No password and no code: the passkey (user verification included) is the second factor.
  await logOut(page);
  await expect(page).toHaveURL(/\/account$/);
  await page.goto("/admin");
  await expect(page.getByRole("heading", { name: "Admin", level: 1 })).toBeVisible();
});

test("without JavaScript: no passkey buttons; the account's passkeys are listed and can be renamed and removed as plain forms", async ({
  page,
  browser,
  request,
  baseURL,
  clientIp,
}) => {
  const person = newPerson("passkey-nojs");
  await activeAccountThroughApi(request, person);
  await virtualAuthenticator(page);
  await page.goto("/login");
  await logIn(page, person);
  await expect(page).toHaveURL(/\/account$/);
  await addPasskeyFromAccount(page);

  const plain = await browser.newContext({ baseURL, javaScriptEnabled: false, extraHTTPHeaders: { "x-forwarded-for": clientIp } });
  try {
    await plain.addCookies(await page.context().cookies());
    const noJs = await plain.newPage();
    await noJs.goto("/account");
    await expect(noJs.getByTestId("passkey")).toHaveCount(1);
    await expect(noJs.getByRole("button", { name: /add a passkey/i })).toHaveCount(0);
    await noJs.getByTestId("passkey").getByLabel("Name").fill("Phone");
    await noJs.getByRole("button", { name: "Rename" }).click();
    await expect(noJs.getByTestId("passkey")).toContainText("Phone");
    await noJs.getByRole("button", { name: "Remove the passkey Phone" }).click();
    await expect(noJs.getByRole("status").filter({ hasText: "The passkey was removed" })).toBeVisible();
    await expect(noJs.getByTestId("passkey")).toHaveCount(0);

    await noJs.goto("/login");
    await expect(noJs.getByLabel("Email")).toBeVisible();
    await expect(noJs.getByRole("button", { name: /passkey/i })).toHaveCount(0);
  } finally {
    await plain.close();
  }
});
