import { OUTCOMES } from "../lib/web/outcomes";
import { waitForCode } from "../testing/mailbox";
import { expect, test } from "./support/fixtures";
import {
  activeAccountThroughApi,
  alertWith,
  endResendCooldown,
  enterCode,
  expireVerificationCodes,
  hydrated,
  logIn,
  registerThroughForm,
  statusWith,
  tabTo,
} from "./support/walk";
import { newPerson, wrongCodeFor } from "../testing/people";

/**
 * The signup walk through the browser, against the production build: register -> code by
 * email (SMTP sink) -> verify -> log in -> account -> log out, and every way it can go wrong on the
 * way. The same tests run with JavaScript and without it (plain form posts to the server actions).
 */

// Every test registers its own address, so they run side by side.
test.describe.configure({ mode: "parallel" });

const verifyUrl = (email: string) => `/verify?email=${encodeURIComponent(email)}`;
const RESEND_WAIT = /Please wait (\d+) seconds? before asking for another code/;

function walkTests(javaScript: boolean) {
  test("verify from another device: the code alone does not apply the signup's password; the person chooses name and password there and is signed in", async ({
    page,
    browser,
    baseURL,
    clientIp,
  }) => {
    const person = newPerson("other-device");
    const sentAfter = await registerThroughForm(page, person);
    const code = await waitForCode(person.email, { after: sentAfter });

    // The mail opened on a phone: a browser without this signup's registration cookie.
    const phone = await browser.newContext({ baseURL, javaScriptEnabled: javaScript, extraHTTPHeaders: { "x-forwarded-for": clientIp } });
    try {
      const other = await phone.newPage();
      await other.goto(verifyUrl(person.email));
      await expect(other.getByText(/this browser did not make the signup/i)).toBeVisible();
      const field = other.getByLabel("Verification code");
      if (javaScript) await hydrated(field);
      await field.fill(code);
      await other.getByLabel("Name").fill("Ada on the phone");
      await other.getByLabel("Choose a password").fill("a phone-chosen passphrase of some length");
      await other.getByLabel("Repeat password").fill("a phone-chosen passphrase of some length");
      await other.getByRole("button", { name: /verify and sign in/i }).click();
      await expect(other).toHaveURL(/\/account$/);
      await expect(other.getByTestId("account-name")).toHaveText("Ada on the phone");
    } finally {
      await phone.close();
    }
    // The password typed at signup in the first browser was never applied.
    expect((await page.request.post("/api/login", { data: { email: person.email, password: person.password } })).status()).toBe(401);
  });

  test("register, verify by emailed code, log in, see the account, log out", async ({ page }) => {
    const person = newPerson();
    const sentAfter = await registerThroughForm(page, person);

    // The verify page names the address the code went to, with a way back.
    await expect(page.getByText(person.email).first()).toBeVisible();
    await expect(page.getByRole("link", { name: /wrong address\? start again/i })).toHaveAttribute("href", /^\/register/);
    const code = await waitForCode(person.email, { after: sentAfter });
    await enterCode(page, code, javaScript);

    // Verified -> the login page, address prefilled (the documented choice).
    await expect(page).toHaveURL(/\/login\?(.*&)?verified=1/);
    await expect(page.getByLabel("Email")).toHaveValue(person.email);
    await page.getByLabel("Password", { exact: true }).fill(person.password);
    await page.getByRole("button", { name: /^log in$/i }).click();

    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByTestId("account-name")).toHaveText(person.name);
    await expect(page.getByTestId("account-email")).toHaveText(person.email);
    await expect(page.getByTestId("account-role")).toHaveText(/customer/i);
    await expect(page.getByTestId("account-email-verified")).toHaveText(/\d{4}/);
    await expect(page.getByTestId("account-email-verified")).not.toHaveText(/not yet/i);

    await page.getByRole("button", { name: /log out/i }).click();
    await expect(page).toHaveURL(/\/login/);
    await page.goto("/account");
    await expect(page).toHaveURL(/\/login/);
  });

  test("login before verification is refused, and 'Email me a new code' leads to a working code", async ({ page }) => {
    const person = newPerson();
    const firstSent = await registerThroughForm(page, person);
    await waitForCode(person.email, { after: firstSent });

    await page.goto("/login");
    await logIn(page, person);
    const refusal = alertWith(page, OUTCOMES.unverified.message);
    await expect(refusal).toBeVisible();
    await expect(page).toHaveURL(/\/login/);
    await expect(refusal.getByRole("link", { name: /i have a code/i })).toHaveAttribute("href", /^\/verify\?/);

    // The code mailed at signup started the 60 s resend cooldown; end it as if the minute had passed
    // (DEL of limit:{id}:send:cooldown in Redis) so this resend is the real one, not the rate-limited one.
    await endResendCooldown(person.email);
    const resentAfter = Date.now();
    await refusal.getByRole("button", { name: /email me a new code/i }).click();
    await expect(page).toHaveURL(/\/verify\?/);
    await expect(page.getByText(person.email).first()).toBeVisible();
    await expect(statusWith(page, /code is on its way/i)).toBeVisible();

    const code = await waitForCode(person.email, { after: resentAfter });
    await enterCode(page, code, javaScript);
    await expect(page).toHaveURL(/\/login\?(.*&)?verified=1/);
    await logIn(page, person);
    await expect(page).toHaveURL(/\/account$/);
  });

  test("a wrong password and an unknown address get the same answer", async ({ page }) => {
    const person = newPerson();
    await activeAccountThroughApi(page.request, person);

    await page.goto("/login");
    await logIn(page, { email: person.email, password: "not the password at all 123" });
    const wrongPassword = alertWith(page, OUTCOMES.invalid_credentials.message);
    await expect(wrongPassword).toBeVisible();
    await expect(page).toHaveURL(/\/login/);
    const wrongPasswordText = await wrongPassword.innerText();

    await page.goto("/login");
    await logIn(page, { email: newPerson("nobody").email, password: person.password });
    const unknown = alertWith(page, OUTCOMES.invalid_credentials.message);
    await expect(unknown).toBeVisible();
    expect(await unknown.innerText()).toBe(wrongPasswordText);
    await expect(page.getByText(/not verified/i)).toHaveCount(0);
  });

  test("a wrong code shows an error and keeps the form; the right one then works once, and again says used", async ({ page }) => {
    const person = newPerson();
    const sentAfter = await registerThroughForm(page, person);
    const code = await waitForCode(person.email, { after: sentAfter });

    await enterCode(page, wrongCodeFor(code), javaScript);
    await expect(alertWith(page, OUTCOMES.wrong_code.message)).toBeVisible();
    await expect(page).toHaveURL(/\/verify\?/);
    const field = page.getByLabel("Verification code");
    await expect(field).toBeEditable();
    await expect(field).toHaveAttribute("aria-invalid", "true");
    if (javaScript) await expect(field).toBeFocused();
    await expect(page.getByText(person.email).first()).toBeVisible();

    // The same form, the right code.
    await enterCode(page, code, javaScript);
    await expect(page).toHaveURL(/\/login\?(.*&)?verified=1/);

    // Used up: said so, not "wrong".
    await page.goto(verifyUrl(person.email));
    await enterCode(page, code, javaScript);
    await expect(alertWith(page, OUTCOMES.used.message)).toBeVisible();
    await expect(page).toHaveURL(/\/verify\?/);
  });

  test("an expired code says so and 'Send a new code' sends one that works", async ({ page }) => {
    const person = newPerson();
    const sentAfter = await registerThroughForm(page, person);
    const code = await waitForCode(person.email, { after: sentAfter });

    // Ten minutes pass: the record's expiry moves into the past in Redis, and the 60 s resend cooldown
    // (limit:{id}:send:cooldown) is deleted, as both would have run out by then.
    await expireVerificationCodes(person.email);
    await endResendCooldown(person.email);

    // The person comes back to the verify page later.
    await page.goto(verifyUrl(person.email));
    await enterCode(page, code, javaScript);
    await expect(alertWith(page, OUTCOMES.expired.message)).toBeVisible();
    await expect(page).toHaveURL(/\/verify\?/);

    const resentAfter = Date.now();
    const resend = page.getByRole("button", { name: /send a new code/i });
    await expect(resend).toBeEnabled();
    await resend.click();
    await expect(statusWith(page, /new code is on its way/i)).toBeVisible();
    const newCode = await waitForCode(person.email, { after: resentAfter });
    expect(newCode).not.toBe(code);

    await enterCode(page, newCode, javaScript);
    await expect(page).toHaveURL(/\/login\?(.*&)?verified=1/);
  });

  if (javaScript) {
    test("the resend countdown runs while the cooldown lasts, with the server's figure", async ({ page }) => {
      const person = newPerson();
      await registerThroughForm(page, person);

      // Right after signup: "Send a new code" waits out the cooldown, counting down.
      const resend = page.getByRole("button", { name: /send a new code/i });
      await expect(resend).toBeDisabled();
      const secondsOn = async () => Number(/(\d+)/.exec(await resend.innerText())?.[1] ?? NaN);
      const first = await secondsOn();
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThanOrEqual(60);
      await expect.poll(secondsOn, { timeout: 4_000 }).toBeLessThan(first);

      // A page that does not know about the cooldown (opened afresh) asks; the server answers with how
      // long is left, and the countdown starts from that.
      await page.goto(verifyUrl(person.email));
      await hydrated(resend);
      await expect(resend).toBeEnabled();
      await resend.click();
      const wait = alertWith(page, RESEND_WAIT);
      await expect(wait).toBeVisible();
      const told = Number(RESEND_WAIT.exec(await wait.innerText())![1]);
      expect(told).toBeGreaterThan(0);
      expect(told).toBeLessThanOrEqual(60);
      await expect(resend).toBeDisabled();
      expect(Math.abs((await secondsOn()) - told)).toBeLessThanOrEqual(2);
    });

    test("pasting '123 456' or '123-456' fills the field and submits", async ({ page, context }) => {
      await context.grantPermissions(["clipboard-read", "clipboard-write"]);
      const person = newPerson();
      const sentAfter = await registerThroughForm(page, person);
      const code = await waitForCode(person.email, { after: sentAfter });
      const field = page.getByLabel("Verification code");

      const paste = async (text: string) => {
        await page.evaluate((t) => navigator.clipboard.writeText(t), text);
        await field.focus();
        await page.keyboard.press("ControlOrMeta+A");
        await page.keyboard.press("ControlOrMeta+V");
      };

      // A wrong one first, with a dash: six digits reach the server, which says "not right".
      const wrong = wrongCodeFor(code);
      await paste(`${wrong.slice(0, 3)}-${wrong.slice(3)}`);
      await expect(alertWith(page, OUTCOMES.wrong_code.message)).toBeVisible();

      await paste(`${code.slice(0, 3)} ${code.slice(3)}`);
      await expect(page).toHaveURL(/\/login\?(.*&)?verified=1/);
    });

    test("the whole walk by keyboard only (Tab, typing, Enter)", async ({ page }) => {
      const person = newPerson("keys");
      await page.goto("/");
      await tabTo(page, page.getByRole("link", { name: /create an account/i }));
      await page.keyboard.press("Enter");
      await expect(page).toHaveURL(/\/register$/);

      await tabTo(page, page.getByLabel("Name"));
      await page.keyboard.type(person.name);
      await tabTo(page, page.getByLabel("Email"));
      await page.keyboard.type(person.email);
      await tabTo(page, page.getByLabel("Password", { exact: true }));
      await page.keyboard.type(person.password);
      await tabTo(page, page.getByLabel("Repeat password"));
      await page.keyboard.type(person.password);
      const sentAfter = Date.now();
      await page.keyboard.press("Enter");
      await expect(page).toHaveURL(/\/verify\?/);

      const code = await waitForCode(person.email, { after: sentAfter });
      await tabTo(page, page.getByLabel("Verification code"));
      // Typing the sixth digit submits.
      await page.keyboard.type(code);
      await expect(page).toHaveURL(/\/login\?(.*&)?verified=1/);

      await tabTo(page, page.getByLabel("Password", { exact: true }));
      await page.keyboard.type(person.password);
      await page.keyboard.press("Enter");
      await expect(page).toHaveURL(/\/account$/);
      await expect(page.getByTestId("account-email")).toHaveText(person.email);

      await tabTo(page, page.getByRole("button", { name: /log out/i }));
      await page.keyboard.press("Enter");
      await expect(page).toHaveURL(/\/login/);
    });
  } else {
    test("asking for a new code during the cooldown tells how long to wait", async ({ page }) => {
      const person = newPerson();
      await registerThroughForm(page, person);
      // Without JavaScript nothing would re-enable a disabled button, so it stays pressable; the server says no.
      await page.getByRole("button", { name: /send a new code/i }).click();
      const wait = alertWith(page, RESEND_WAIT);
      await expect(wait).toBeVisible();
      const told = Number(RESEND_WAIT.exec(await wait.innerText())![1]);
      expect(told).toBeGreaterThan(0);
      expect(told).toBeLessThanOrEqual(60);
      await expect(page.getByLabel("Verification code")).toBeEditable();
    });
  }
}

test.describe("with JavaScript", () => {
  walkTests(true);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });
  walkTests(false);
});

test("password fields are masked, a Show/Hide toggle reveals them, pasting works, and autocomplete guides password managers", async ({ page }) => {
  await page.goto("/register");
  const password = page.getByLabel("Password", { exact: true });
  await hydrated(password);
  await expect(password).toHaveAttribute("type", "password");
  await expect(password).toHaveAttribute("autocomplete", "new-password");
  await expect(page.getByLabel("Repeat password")).toHaveAttribute("autocomplete", "new-password");
  await expect(page.getByLabel("Email")).toHaveAttribute("autocomplete", "email");

  // Pasting is not blocked: nothing cancels the paste event (dispatchEvent answers false if something did),
  // and the text then goes in as the browser would insert it.
  await password.focus();
  const pasteAllowed = await page.evaluate(() => {
    const data = new DataTransfer();
    data.setData("text/plain", "pasted passphrase of five words");
    return document.activeElement!.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  });
  expect(pasteAllowed).toBe(true);
  await page.keyboard.insertText("pasted passphrase of five words");
  await expect(password).toHaveValue("pasted passphrase of five words");

  const toggle = page.getByRole("button", { name: "Show password" }).first();
  await toggle.click();
  await expect(password).toHaveAttribute("type", "text");
  await page.getByRole("button", { name: "Hide password" }).first().click();
  await expect(password).toHaveAttribute("type", "password");
  await expect(password).toHaveValue("pasted passphrase of five words");

  await page.goto("/login");
  const current = page.getByLabel("Password", { exact: true });
  await expect(current).toHaveAttribute("autocomplete", "current-password");
  await expect(page.getByLabel("Email")).toHaveAttribute("autocomplete", "username webauthn");
});
