import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "@playwright/test";
import { expect, test } from "./support/fixtures";

/**
 * The auth pages that need nothing of the request are the build's HTML: the CSP lists the hashes of exactly
 * their inline scripts (no nonce, no 'unsafe-inline', no wildcard), shared caches may keep them, and their
 * scripts run under that policy. A query, a session cookie or a page that reads the request is rendered per
 * request with a nonce and is never cacheable.
 */

test.describe.configure({ mode: "parallel" });

// /login too where the server runs with the build's settings; here it runs with SIGN_IN_BY_CODE on (not the build's).
const ALWAYS_STATIC = ["/register", "/forgot-password"] as const;

/** What a browser sends when it loads a page: only such a request gets the publicly cacheable HTML. */
const NAVIGATION = { accept: "text/html,application/xhtml+xml,*/*;q=0.8", "sec-fetch-dest": "document" };

function scriptSrc(csp: string | undefined): string[] {
  const directive =
    (csp ?? "")
      .split(";")
      .map((d) => d.trim())
      .find((d) => d.startsWith("script-src ")) ?? "";
  return directive.split(/\s+/).slice(1);
}

function inlineScriptCount(html: string): number {
  return [...html.matchAll(/<script\b([^>]*)>/gi)].filter((m) => !/\bsrc\s*=/i.test(m[1] ?? "")).length;
}

function watchCsp(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (/content security policy|content-security-policy/i.test(message.text())) problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  return problems;
}

for (const path of ALWAYS_STATIC) {
  test(`${path} is the prerendered HTML under a hash-based CSP that a shared cache may keep`, async ({ request }) => {
    const response = await request.get(path, { headers: NAVIGATION });
    expect(response.status()).toBe(200);
    const headers = response.headers();
    const sources = scriptSrc(headers["content-security-policy"]);
    const hashes = sources.filter((s) => /^'sha256-[A-Za-z0-9+/]{43}='$/.test(s));
    // Strict: only 'self' and hashes; nothing that would admit an injected script.
    expect(
      sources.filter((s) => s !== "'self'" && !hashes.includes(s)),
      headers["content-security-policy"],
    ).toEqual([]);
    expect(sources.join(" ")).not.toMatch(/unsafe-inline|unsafe-eval|nonce-|\*|https?:|data:|blob:/);
    const html = await response.text();
    expect(hashes.length).toBe(inlineScriptCount(html));
    expect(html).not.toMatch(/\bnonce=/);
    expect(headers["cache-control"]).toMatch(/^public\b/);
    expect(headers["cache-control"]).toMatch(/\bs-maxage=\d+/);
    expect(headers["cache-control"]).toMatch(/\bstale-while-revalidate=\d+/);
    expect(headers["set-cookie"]).toBeUndefined();
    expect(headers["x-frame-options"]).toBe("DENY");
    expect(headers["x-content-type-options"]).toBe("nosniff");

    // The same bytes and policy for the next visitor: nothing per request in either.
    const again = await request.get(path, { headers: NAVIGATION });
    expect(again.headers()["content-security-policy"]).toBe(headers["content-security-policy"]);
    expect(await again.text()).toBe(html);
  });
}

for (const path of ALWAYS_STATIC) {
  test(`${path}: a browser's navigation gets the build's HTML straight from the proxy, and its ETag a 304`, async ({ request }) => {
    const navigation = await request.get(path, { headers: NAVIGATION });
    expect(navigation.status()).toBe(200);
    expect(await navigation.text()).toBe(readFileSync(join(process.cwd(), ".next/server/app/prerendered", `${path}.html`), "utf8"));
    const etag = navigation.headers().etag;
    expect(etag).toMatch(/^"[^"]+"$/);
    const repeat = await request.get(path, { headers: { ...NAVIGATION, "if-none-match": etag! } });
    expect(repeat.status()).toBe(304);
    expect(await repeat.text()).toBe("");
    const changed = await request.get(path, { headers: { ...NAVIGATION, "if-none-match": '"another"' } });
    expect(changed.status()).toBe(200);
    const head = await request.head(path, { headers: NAVIGATION });
    expect(head.status()).toBe(200);
    expect(await head.text()).toBe("");
    expect(head.headers()["content-security-policy"]).toBe(navigation.headers()["content-security-policy"]);
  });

  test(`${path}: a shared cache cannot be made to keep the wrong answer for the page's address (found by an outsider's pass)`, async ({ request }) => {
    // Next's client-side navigation (RSC headers; Sec-Fetch-Dest empty), with Accept
    // asking for HTML: not the document, and nothing a shared cache may keep.
    const rscAskingForHtml = await request.get(path, {
      headers: { rsc: "1", "next-router-prefetch": "1", accept: "text/html", "sec-fetch-dest": "empty" },
      maxRedirects: 0,
    });
    expect(rscAskingForHtml.headers()["content-type"] ?? "").not.toMatch(/text\/html/);
    expect(rscAskingForHtml.headers()["cache-control"] ?? "").not.toMatch(/\bpublic\b|s-maxage/);
    // Next's redirect for an RSC request without its cache-busting parameter: never kept for the page's address.
    const redirect = await request.get(path, { headers: { rsc: "1" }, maxRedirects: 0 });
    expect(redirect.headers()["cache-control"] ?? "", `status ${redirect.status()}`).not.toMatch(/\bpublic\b|s-maxage/);
    // A client that does not say it is loading a document gets the page from Next, not for shared caches either.
    const plain = await request.get(path, { headers: { accept: "*/*" } });
    expect(plain.status()).toBe(200);
    expect(plain.headers()["cache-control"] ?? "").not.toMatch(/\bpublic\b|s-maxage/);
    // The cached HTML differs by Sec-Fetch-Dest, so the key a cache stores it under must include it.
    const navigation = await request.get(path, { headers: NAVIGATION });
    expect((navigation.headers().vary ?? "").toLowerCase().split(/\s*,\s*/)).toContain("sec-fetch-dest");
    // A signed-in visitor gets another page (rendered for them): a cache must not hand them the stored one.
    expect((navigation.headers().vary ?? "").toLowerCase().split(/\s*,\s*/)).toContain("cookie");
    // Next's client-side navigation says so in its query and headers, which Next used to strip before the proxy
    // saw them: a cache keyed on the address alone must not get the document there (a later outsider's pass).
    for (const [query, headers] of [
      ["?_rsc=VL7gJppaRj-pwLCo", {}],
      ["?_rsc", {}],
      ["", { rsc: "1" }],
      ["", { "next-router-prefetch": "1" }],
    ] as const) {
      const asDocument = await request.get(`${path}${query}`, { headers: { ...NAVIGATION, ...headers }, maxRedirects: 0 });
      expect(asDocument.headers()["cache-control"] ?? "", `${query} ${JSON.stringify(headers)}`).not.toMatch(/\bpublic\b|s-maxage/);
    }
  });

  test(`${path}: behind a proxy that terminates TLS (X-Forwarded-Proto: https), every kind of request for it is answered (found by an outsider's pass)`, async ({
    request,
  }) => {
    const https = { "x-forwarded-proto": "https" };
    // These were rewritten to the prerendered route, which Next then fetched from its own port over TLS: 500.
    const plain = await request.get(path, { headers: { ...https, accept: "*/*" } });
    expect(plain.status(), await plain.text()).toBe(200);
    expect(await plain.text()).toContain("<form");
    const clientNavigation = await request.get(path, { headers: { ...https, rsc: "1", "sec-fetch-dest": "empty" }, maxRedirects: 0 });
    expect(clientNavigation.status()).toBeLessThan(500);
    const navigation = await request.get(path, { headers: { ...https, ...NAVIGATION } });
    expect(navigation.status()).toBe(200);
    expect(navigation.headers()["strict-transport-security"]).toBeTruthy();
  });
}

test("a query, a session cookie or a per-request page gets a nonce and is never cacheable", async ({ request }) => {
  const perRequest = [
    await request.get("/register?email=someone%40example.test", { headers: NAVIGATION }),
    await request.get("/login?verified=1&email=someone%40example.test", { headers: NAVIGATION }),
    await request.get("/forgot-password", { headers: { ...NAVIGATION, Cookie: "authjs.session-token=not-a-real-token" } }),
    // Spaced as Auth.js still reads it (names trimmed), though Next's own cookie parser does not (an outsider's pass).
    await request.get("/forgot-password", { headers: { ...NAVIGATION, Cookie: "a=b;\tauthjs.session-token=not-a-real-token" } }),
    await request.get("/register", { headers: { ...NAVIGATION, Cookie: "authjs.session-token =not-a-real-token" } }),
    await request.get("/verify"),
    await request.get("/account", { maxRedirects: 0 }),
  ];
  for (const response of perRequest) {
    const label = response.url();
    expect(
      scriptSrc(response.headers()["content-security-policy"]).some((s) => s.startsWith("'nonce-")),
      label,
    ).toBe(true);
    expect(response.headers()["cache-control"] ?? "", label).not.toMatch(/\bpublic\b|s-maxage/);
  }
  // The prerendered copies have no address of their own, and that answer is not kept either.
  const copy = await request.get("/prerendered/register?x=1", { headers: NAVIGATION });
  expect(copy.status()).toBe(404);
  expect(copy.headers()["cache-control"] ?? "").toMatch(/no-store/);
});

for (const path of ALWAYS_STATIC) {
  test(`${path}: the prerendered page's scripts run under its CSP and the form hydrates`, async ({ page }) => {
    const problems = watchCsp(page);
    const response = await page.goto(path);
    expect(response?.headers()["cache-control"]).toMatch(/^public\b/);
    expect(await page.evaluate(() => Array.isArray((self as unknown as { __next_f?: unknown }).__next_f)), "Next's inline scripts ran").toBe(true);
    // Hydrated: an empty submit is stopped in the browser, with the field marked, and nothing is posted.
    const posts: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST") posts.push(r.url());
    });
    await page
      .getByRole("button")
      .filter({ hasText: /create account|send me a reset code/i })
      .click();
    await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
    expect(posts).toEqual([]);
    expect(problems).toEqual([]);
  });
}

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the prerendered signup form shows the server's answer to its post (found by an outsider's pass)", async ({ page }) => {
    const response = await page.goto("/register");
    // The build's HTML, as a browser gets it: the form's state key must match the page that answers the post.
    expect(response?.headers()["cache-control"] ?? "").toMatch(/^public\b/);
    await page.getByLabel("Name").fill("Ada Without Script");
    await page.getByLabel("Email").fill(`prerendered-nojs-${Date.now()}@example.test`);
    await page.getByLabel("Password", { exact: true }).fill("password1234567");
    await page.getByLabel("Repeat password").fill("password1234567");
    await page.getByRole("button", { name: /create account/i }).click();
    // Until React was given the page's permalink, the post's answer was dropped and the form came back blank.
    await expect(page.getByText(/too common|common word/i)).toBeVisible();
    await expect(page.getByLabel("Name")).toHaveValue("Ada Without Script");
  });
});
