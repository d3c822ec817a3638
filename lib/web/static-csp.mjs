// Plain JavaScript (typed by static-csp.d.mts) so that the bench's floor app can use it too.
import { createHash } from "node:crypto";

/** Each inline <script> body of a page's HTML (those without a src), as the browser will hash it. */
export function inlineScripts(html) {
  const bodies = [];
  for (const match of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (/\bsrc\s*=/i.test(match[1])) continue;
    bodies.push(match[2]);
  }
  return bodies;
}

/** CSP hash sources ('sha256-…') for every inline script of the page, without repeats, in page order. */
export function inlineScriptHashes(html) {
  const hashes = inlineScripts(html).map((body) => `'sha256-${createHash("sha256").update(body, "utf8").digest("base64")}'`);
  return [...new Set(hashes)];
}
