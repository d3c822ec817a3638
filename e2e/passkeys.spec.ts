import type { CDPSession, Page } from "@playwright/test";
import { waitForCode, waitForMail } from "./support/mailbox";
import { expect, test } from "./support/fixtures";
import { activeAccountThroughApi, enterCode, hydrated, logIn, newPerson, registerThroughForm } from "./support/walk";

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
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { cdp: session, authenticatorId };
}

async function logOut(page: Page) {
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login\?signedOut=1/);
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
