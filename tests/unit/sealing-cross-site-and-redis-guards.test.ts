import { describe, expect, it } from "vitest";
import { parseConfig } from "@/lib/platform/config";
import { isCrossSite } from "@/lib/web/json-api";
import { seal, unseal } from "@/lib/credentials/sealed";

const KEY = Buffer.alloc(32, 3);

describe("AES-GCM unsealing insists on a 16-byte tag", () => {
  it("opens a value with its full tag, and refuses the same value with the tag cut to 4, 8 or 12 bytes or grown to 17", () => {
    const sealed = seal(KEY, "ctx", "secret details");
    expect(unseal(KEY, "ctx", sealed)).toBe("secret details");
    const [v, iv, ct, tag] = sealed.split(".");
    const full = Buffer.from(tag ?? "", "base64url");
    expect(full.length).toBe(16);
    for (const bytes of [full.subarray(0, 4), full.subarray(0, 8), full.subarray(0, 12), Buffer.concat([full, Buffer.from([0])])]) {
      const cut = [v, iv, ct, bytes.toString("base64url")].join(".");
      expect(() => unseal(KEY, "ctx", cut), `${bytes.length}-byte tag`).toThrow();
    }
  });
});

describe("the cross-site check and X-Forwarded-Host", () => {
  const request = (headers: Record<string, string>) => new Request("http://app.example.test/api/login", { method: "POST", headers });
  const forged = { host: "app.example.test", origin: "https://evil.example", "x-forwarded-host": "evil.example" };

  it("ignores X-Forwarded-Host unless the proxy is trusted", () => {
    expect(isCrossSite(request(forged), { trustProxy: false })).toBe(true);
    expect(isCrossSite(request(forged), { trustProxy: true })).toBe(false);
    expect(isCrossSite(request({ host: "app.example.test", origin: "http://app.example.test" }), { trustProxy: false })).toBe(false);
  });
});

describe("plaintext Redis in production", () => {
  const production = { NODE_ENV: "production", AUTH_SECRET: "s".repeat(40), AUTH_URL: "https://app.example.test", SMTP_HOST: "smtp.example.test" };

  it("refuses redis:// to another host, naming REDIS_URL, rediss:// and REDIS_ALLOW_PLAINTEXT", () => {
    for (const url of ["redis://10.0.0.7:6379", "redis://cache.internal:6379", "redis://:pw@[2001:db8::1]:6379"]) {
      expect(() => parseConfig({ ...production, REDIS_URL: url }), url).toThrow(/REDIS_URL.*rediss:\/\/.*REDIS_ALLOW_PLAINTEXT=true/s);
    }
  });

  it("accepts rediss://, redis:// to this machine, and redis:// elsewhere with REDIS_ALLOW_PLAINTEXT=true; development is not checked", () => {
    for (const url of ["rediss://cache.internal:6380", "redis://localhost:6379", "redis://127.0.0.1:6379", "redis://[::1]:6379"]) {
      expect(parseConfig({ ...production, REDIS_URL: url }).codeStore, url).toEqual({ kind: "redis", url, cluster: "auto" });
    }
    expect(parseConfig({ ...production, REDIS_URL: "redis://10.0.0.7:6379", REDIS_ALLOW_PLAINTEXT: "true" }).codeStore.kind).toBe("redis");
    expect(parseConfig({ NODE_ENV: "development", REDIS_URL: "redis://10.0.0.7:6379" }).codeStore.kind).toBe("redis");
  });
});
