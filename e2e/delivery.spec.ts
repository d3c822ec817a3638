import { randomBytes } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { startTestStack, type TestStack } from "../testing/services/app-server";
import { startResendStub, type ResendStub } from "../testing/services/resend-stub";

/**
 * The verify page follows the delivery queue: "sending" while the provider has not answered, then "sent" or
 * "could not be sent", live with JavaScript (it polls GET /api/delivery) and on a refresh without. Its own app,
 * sending through a Resend stand-in this spec holds and refuses at will.
 */

const root = process.cwd();
const DOMAIN = "delivery-spec.example.test";
let stub: ResendStub;
let stack: TestStack;
let ip = 0;

test.describe.configure({ mode: "serial", timeout: 120_000 });

test.beforeAll(async () => {
  test.setTimeout(240_000);
  stub = await startResendStub({ ratePerSecond: 2 });
  stack = await startTestStack({
    root,
    snapshotPrefix: "e2e-delivery-app-",
    readyPath: "/login",
    env: { RESEND_API_KEY: `re_test_${randomBytes(8).toString("hex")}`, RESEND_BASE_URL: stub.baseUrl, MAIL_FROM: `Verified Signup <no-reply@${DOMAIN}>` },
  });
});

test.afterAll(async () => {
  await stack?.stop();
  await stub?.stop();
});

/** A signup over the API (its mail is then queued), and the verify page for it. */
async function registerAndOpenVerify(page: Page): Promise<string> {
  const email = `delivery-${randomBytes(4).toString("hex")}@example.test`;
  const r = await page.request.post(`${stack.baseUrl}/api/register`, {
    data: { name: "Ada Lovelace", email, password: "velvet hammock orbit lantern 42" },
    headers: { "x-forwarded-for": `10.77.0.${++ip}` },
  });
  expect(r.status()).toBe(201);
  await page.goto(`${stack.baseUrl}/verify?email=${encodeURIComponent(email)}&delivery=sending`);
  return email;
}

async function waitForApi(page: Page, email: string, wanted: string): Promise<void> {
  await expect
    .poll(async () => (await (await page.request.get(`${stack.baseUrl}/api/delivery?email=${encodeURIComponent(email)}`)).json()).delivery, { timeout: 20_000 })
    .toBe(wanted);
}

test.describe("with JavaScript", () => {
  test("shows sending while the provider holds the message, then sent, without a reload", async ({ page }) => {
    const release = stub.hold();
    try {
      await registerAndOpenVerify(page);
      await expect(page.getByRole("status").filter({ hasText: "Sending… your code is on its way." })).toBeVisible();
    } finally {
      release();
    }
    await expect(page.getByRole("status").filter({ hasText: /^Sent: your code is on its way/ })).toBeVisible({ timeout: 20_000 });
  });

  test("turns to could not be sent when the provider refuses the domain (403), without a reload; so does a new code asked for then", async ({ page }) => {
    const release = stub.hold();
    try {
      await registerAndOpenVerify(page);
      await expect(page.getByText("Sending… your code is on its way.")).toBeVisible();
      stub.unverifiedDomains.add(DOMAIN);
    } finally {
      release();
    }
    try {
      await expect(page.getByRole("alert").filter({ hasText: "could not be sent" })).toBeVisible({ timeout: 20_000 });
      // The failed send gave the cooldown back: a new code can be asked for at once, and its failure shows too.
      await page.getByRole("button", { name: /send a new code/i }).click();
      await expect(page.getByText(/new code is on its way/i)).toBeVisible();
      await expect(page.getByRole("alert").filter({ hasText: "could not be sent" })).toBeVisible({ timeout: 20_000 });
      await expect(page.getByText(/new code is on its way/i)).toBeHidden();
      await expect(page.getByRole("button", { name: /^send a new code$/i })).toBeEnabled();
    } finally {
      stub.unverifiedDomains.delete(DOMAIN);
    }
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("shows sending, and a refresh shows sent once it went", async ({ page }) => {
    const release = stub.hold();
    let email = "";
    try {
      email = await registerAndOpenVerify(page);
      await expect(page.getByText("Sending… your code is on its way.")).toBeVisible();
    } finally {
      release();
    }
    await waitForApi(page, email, "sent");
    await page.reload();
    await expect(page.getByText(/^Sent: your code is on its way/)).toBeVisible();
  });
});
