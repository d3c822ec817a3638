import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { securityHeaders } from "@/lib/web/security-headers.mjs";
import { inlineScriptHashes } from "@/lib/web/static-csp.mjs";
import { prerenderSettings, settingsMatch } from "@/lib/web/static-pages";

const sha = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

describe("hash-based CSP for prerendered pages", () => {
  it("hashes each inline script exactly as written, skips external ones and repeats", () => {
    const html = `<script src="/_next/a.js" async=""></script><script>self.__next_f=[]</script><script id="x">a("é")</script><script>self.__next_f=[]</script>`;
    expect(inlineScriptHashes(html)).toEqual([sha("self.__next_f=[]"), sha('a("é")')]);
  });

  it("allows 'self' and the hashes, nothing inline or from elsewhere", () => {
    const csp = securityHeaders({ scriptHashes: [sha("a")], isProduction: true })["Content-Security-Policy"];
    const scriptSrc = csp.split("; ").find((d) => d.startsWith("script-src "));
    expect(scriptSrc).toBe(`script-src 'self' ${sha("a")}`);
    expect(csp).not.toMatch(/unsafe-inline|\*/);
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("base-uri 'none'");
  });
});

describe("prerendered pages and the server's settings", () => {
  const built = { passwordMinLength: 15, signInByCode: false };
  it("serves a page only where the settings it shows are the build's", () => {
    const recorded = prerenderSettings(built, ["passwordMinLength"]);
    expect(settingsMatch(recorded, { ...built, signInByCode: true })).toBe(true);
    expect(settingsMatch(recorded, { ...built, passwordMinLength: 12 })).toBe(false);
    expect(settingsMatch(prerenderSettings(built, []), { passwordMinLength: 8, signInByCode: true })).toBe(true);
    expect(settingsMatch("unknownSetting=1", built)).toBe(false);
  });
});
