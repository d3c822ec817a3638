import { randomUUID } from "node:crypto";
import AxeBuilder from "@axe-core/playwright";
import { createClient } from "@libsql/client";
import type { Page } from "@playwright/test";
import { Secret, TOTP } from "otpauth";
import { openDatabase } from "../db/client";
import { parseConfig } from "../lib/platform/config";
import { createOrPromoteStaff } from "../lib/staff/create-admin";
import { hashPassword } from "../lib/credentials/passwords";
import { MemoryCodeStore } from "../lib/store/memory";
import { expect, test } from "./support/fixtures";
import { activeAccountThroughApi, alertWith, logIn, statusWith } from "./support/walk";
import { newPerson, type Person } from "../testing/people";

/**
 * The staff area as people meet it: a customer gets a 403; an admin made by `npm run create-admin`'s core
 * is sent to set up an authenticator app, is refused without (or with a wrong) enrolment code, turns it on
 * with the enrolment code create-admin printed and a code computed here from the key on the page, logs in
 * again with password + code (a replayed code is refused), sees the users list and metrics, and changes a
 * customer's role, which signs that customer out on their next request. A staff account no enrolment code
 * was printed for is told to ask an operator. axe checks the admin pages. One walk also runs without JavaScript.
 */

test.describe.configure({ mode: "parallel" });

type StaffPerson = Person & { enrolmentCode: string };

/** An account made by `npm run create-admin` (its core, on the app's database), with the enrolment code it printed. */
async function staffAccount(prefix: string, role: "admin" | "staff" = "admin"): Promise<StaffPerson> {
  const person = newPerson(prefix);
  const url = process.env.E2E_DATABASE_URL;
  if (!url) throw new Error("E2E_DATABASE_URL is not set: run the specs through playwright.config.ts.");
  const handle = openDatabase(url);
  await handle.ready;
  // The app's store is not needed: a new account has no sessions to end.
  const store = new MemoryCodeStore();
  try {
    const config = parseConfig({ NODE_ENV: "test", AUTH_SECRET: process.env.E2E_AUTH_SECRET });
    const result = await createOrPromoteStaff(
      { db: handle.db, store, config },
      { email: person.email, role, name: "Ops Person", resetTotp: false },
      async () => ({
        password: person.password,
        confirmation: person.password,
      }),
    );
    return { ...person, enrolmentCode: result.enrolmentCode!.code };
  } finally {
    handle.client.close();
  }
}

/** An active, verified staff account written straight into the database, as an admin's role change leaves it: no enrolment code. */
async function staffWithoutEnrolmentCode(prefix: string): Promise<Person> {
  const person = newPerson(prefix);
  const client = createClient({ url: process.env.E2E_DATABASE_URL! });
  try {
    await client.execute("PRAGMA busy_timeout = 5000");
    const now = Date.now();
    await client.execute({
      sql: "insert into users (id, email, name, password_hash, role, is_active, email_verified_at, session_version, created_at, updated_at) values (?, ?, ?, ?, 'staff', 1, ?, 0, ?, ?)",
      args: [randomUUID(), person.email, "Ops Person", await hashPassword(person.password), now, now, now],
    });
  } finally {
    client.close();
  }
  return person;
}

/** The auth_events rows about an account, oldest first (what the audit log recorded, read from the app's database). */
async function auditEventsOf(email: string): Promise<Array<{ event: string; outcome: string | null; detail: string | null }>> {
  const client = createClient({ url: process.env.E2E_DATABASE_URL! });
  try {
    const result = await client.execute({
      sql: "select e.event, e.outcome, e.detail from auth_events e join users u on u.id = e.user_id where u.email = ? order by e.id",
      args: [email],
    });
    return result.rows.map((row) => ({
      event: String(row.event),
      outcome: row.outcome === null ? null : String(row.outcome),
      detail: row.detail === null ? null : String(row.detail),
    }));
  } finally {
    client.close();
  }
}

const codeAt = (secret: string, timestamp: number) =>
  new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 }).generate({ timestamp });

async function axeClean(page: Page, what: string) {
  for (const colorScheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme, reducedMotion: "reduce" });
    await page.waitForTimeout(150);
    const { violations } = await new AxeBuilder({ page }).analyze();
    expect
      .soft(
        violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(" ")) })),
        `axe on ${what} (${colorScheme})`,
      )
      .toEqual([]);
  }
}

/** From a first password login to a session opened with the second factor; returns the base32 secret. */
async function enrolAndLogInAgain(page: Page, admin: StaffPerson, options: { checkAxe: boolean }): Promise<string> {
  await page.goto("/login");
  await logIn(page, admin);
  await expect(page).toHaveURL(/\/account$/);

  // No second factor yet: /admin sends the person to set one up.
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/admin\/enroll$/);
  await expect(page.getByRole("heading", { name: "Set up two-factor authentication" })).toBeVisible();
  await expect(page.getByRole("img", { name: /QR code/ })).toBeVisible();
  const secret = (await page.getByTestId("totp-secret").textContent())!.replace(/\s/g, "");
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await expect(page.getByTestId("recovery-codes").getByRole("listitem")).toHaveCount(10);
  // A reload shows the same key (the enrolment waits for its confirmation).
  await page.reload();
  expect((await page.getByTestId("totp-secret").textContent())!.replace(/\s/g, "")).toBe(secret);
  if (options.checkAxe) await axeClean(page, "/admin/enroll");

  const code = codeAt(secret, Date.now());
  // The password and the app's code are not enough: the enrolment code create-admin printed is asked for.
  await page.getByLabel("Code from the app").fill(code);
  await page.getByRole("button", { name: /turn on two-factor/i }).click();
  await expect(page.getByText("Enter the enrolment code the operator gave you (ten letters and digits).")).toBeVisible();
  const wrongEnrolmentCode = admin.enrolmentCode.startsWith("a") ? "bbbbb-bbbbb" : "aaaaa-aaaaa";
  await page.getByLabel("Enrolment code").fill(wrongEnrolmentCode);
  await page.getByLabel("Code from the app").fill(code);
  await page.getByRole("button", { name: /turn on two-factor/i }).click();
  await expect(page.getByText(/That enrolment code is not right/)).toBeVisible();

  await page.getByLabel("Enrolment code").fill(admin.enrolmentCode);
  await page.getByLabel("Code from the app").fill(String((Number(code) + 1) % 1_000_000).padStart(6, "0"));
  await page.getByRole("button", { name: /turn on two-factor/i }).click();
  await expect(page.getByText(/That code is not right/)).toBeVisible();
  if (options.checkAxe) await axeClean(page, "/admin/enroll with a wrong code");

  await page.getByLabel("Enrolment code").fill(admin.enrolmentCode);
  await page.getByLabel("Code from the app").fill(code);
  await page.getByRole("button", { name: /turn on two-factor/i }).click();
  // Turned on: every session ended, this one included; log in again with the code.
  await expect(page).toHaveURL(/\/login\?mfa=on/);
  await expect(statusWith(page, /Two-factor authentication is on/)).toBeVisible();
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/login/);

  await page.goto(`/login?mfa=on&email=${encodeURIComponent(admin.email)}`);
  await page.getByLabel("Password", { exact: true }).fill(admin.password);
  // The code that turned it on is spent: replaying it is refused.
  await page.getByLabel("Authentication code").fill(code);
  await page.getByRole("button", { name: /^log in$/i }).click();
  await expect(alertWith(page, "Invalid email, password or authentication code.")).toBeVisible();
  await expect(page.getByLabel("Authentication code")).toBeVisible();

  // The next time-step's code (inside the accepted window) works.
  await page.getByLabel("Password", { exact: true }).fill(admin.password);
  await page.getByLabel("Authentication code").fill(codeAt(secret, Date.now() + 30_000));
  await page.getByRole("button", { name: /^log in$/i }).click();
  await expect(page).toHaveURL(/\/account$/);
  return secret;
}

test("customers get a 403 on /admin; a visitor who is not logged in is sent to log in", async ({ page }) => {
  const anonymous = await page.goto("/admin");
  await expect(page).toHaveURL(/\/login/);
  expect(anonymous?.status()).toBe(200);

  const customer = newPerson("admin-403");
  await activeAccountThroughApi(page.request, customer);
  await page.goto("/login");
  await logIn(page, customer);
  await expect(page).toHaveURL(/\/account$/);

  for (const path of ["/admin", "/admin/enroll", "/admin?role=admin"]) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(403);
    await expect(page.getByRole("heading", { name: "Not allowed" })).toBeVisible();
  }
  await axeClean(page, "the 403 page");
});

test("a staff account no enrolment code was printed for cannot set up an authenticator: it is told to ask an operator", async ({ page }) => {
  const staff = await staffWithoutEnrolmentCode("admin-nocode");
  await page.goto("/login");
  await logIn(page, staff);
  await expect(page).toHaveURL(/\/account$/);
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/admin\/enroll$/);
  await expect(page.getByText(/None is waiting for this account/)).toBeVisible();
  await expect(page.getByText(`npm run create-admin -- --email ${staff.email} --role staff`)).toBeVisible();
  await expect(page.getByRole("img", { name: /QR code/ })).toHaveCount(0);
  await expect(page.getByLabel("Code from the app")).toHaveCount(0);
});

test("an admin sets up TOTP, logs in with a code, sees the list, and a role change signs that customer out", async ({ page, browser, baseURL, clientIp }) => {
  test.setTimeout(90_000);
  // The pages run under the CSP (no inline script or style, QR code as a data: image, charts as inline SVG).
  const cspProblems: string[] = [];
  page.on("console", (message) => {
    if (/content security policy/i.test(message.text())) cspProblems.push(message.text());
  });
  const admin = await staffAccount("admin-walk");
  const secret = await enrolAndLogInAgain(page, admin, { checkAxe: true });

  // The JSON API asks for the code the same way (one decision, in accounts.authenticate).
  const api = await page.request.post("/api/login", { data: { email: admin.email, password: admin.password } });
  expect(api.status()).toBe(401);
  expect((await api.json()).error.code).toBe("totp_required");

  // A customer, logged in in their own browser.
  const customer = newPerson("admin-target");
  await activeAccountThroughApi(page.request, customer);
  const other = await browser.newContext({ baseURL, extraHTTPHeaders: { "x-forwarded-for": `${clientIp}1` } });
  const customerPage = await other.newPage();
  await customerPage.goto("/login");
  await logIn(customerPage, customer);
  await expect(customerPage).toHaveURL(/\/account$/);

  // The admin area opens: metrics and the users list.
  const response = await page.goto("/admin");
  expect(response?.status()).toBe(200);
  await expect(page.getByRole("heading", { name: "Admin", level: 1 })).toBeVisible();
  await expect(page.getByTestId("metrics-summary")).toContainText("Registrations");
  await expect(page.getByRole("img", { name: /Registrations, last 24 hours/ })).toBeVisible();
  await expect(page.getByTestId("users-table")).toBeVisible();
  await axeClean(page, "/admin");

  // Search for the customer, then make them staff.
  await page.getByLabel("Email contains").fill(customer.email);
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/\/admin\?q=/);
  const row = page.locator(`[data-testid="user-row"][data-email="${customer.email}"]`);
  await expect(page.getByTestId("user-row")).toHaveCount(1);
  await expect(row.getByTestId("user-role")).toHaveText("customer");
  await row.getByLabel(`New role for ${customer.email}`).selectOption("staff");
  await row.getByRole("button", { name: `Change role of ${customer.email}` }).click();
  await expect(statusWith(page, /Role changed/)).toBeVisible();
  await expect(page.locator(`[data-testid="user-row"][data-email="${customer.email}"]`).getByTestId("user-role")).toHaveText("staff");
  await axeClean(page, "/admin after a change");

  // The customer's next request: signed out.
  await customerPage.goto("/account");
  await expect(customerPage).toHaveURL(/\/login/);
  await other.close();

  // The audit log has the change (with who made it) and the admin's logins, and nothing secret.
  await expect.poll(async () => (await auditEventsOf(customer.email)).map((e) => e.event)).toContain("role_changed");
  const adminEvents = await auditEventsOf(admin.email);
  expect(adminEvents.map((e) => e.event)).toEqual(expect.arrayContaining(["totp_enrolled", "login_second_factor_required", "login_ok"]));
  expect(adminEvents).toContainEqual({ event: "login_failed", outcome: "wrong_second_factor", detail: null });
  const recorded = JSON.stringify([...adminEvents, ...(await auditEventsOf(customer.email))]);
  expect(recorded).not.toContain("@");
  expect(recorded).not.toContain(secret);
  expect(recorded).not.toContain(admin.password);
  expect(recorded).not.toContain(admin.enrolmentCode);

  // An admin cannot demote themselves: their own row has no actions.
  await page.getByLabel("Email contains").fill(admin.email);
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.locator(`[data-testid="user-row"][data-email="${admin.email}"]`)).toContainText("This is you");
  expect(cspProblems).toEqual([]);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("enrolment, the code step of the login and the admin area work as plain forms", async ({ page }) => {
    test.setTimeout(90_000);
    const staff = await staffAccount("admin-nojs", "staff");
    await enrolAndLogInAgain(page, staff, { checkAxe: false });
    const response = await page.goto("/admin?sort=created_asc&verified=verified");
    expect(response?.status()).toBe(200);
    await expect(page.getByTestId("users-table")).toBeVisible();
    // Staff look; only admins change accounts.
    await expect(page.getByRole("button", { name: /change role/i })).toHaveCount(0);
    await expect(page.getByLabel("Sort")).toHaveValue("created_asc");
  });
});
