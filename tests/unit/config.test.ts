import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig, type AppConfig } from "@/lib/platform/config";
import { relyingParty } from "@/lib/credentials/passkey-relying-party";

/** The problems parseConfig reports for `env`, or [] when it accepts it. */
function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
}

/** A production environment that passes every check; each test removes or changes one thing. */
const PRODUCTION_OK = {
  NODE_ENV: "production",
  AUTH_SECRET: "a-long-random-production-secret-value",
  AUTH_URL: "https://signup.example.com",
  REDIS_URL: "rediss://cache.internal:6379",
  SMTP_URL: "smtp://user:pass@smtp.example.com:587",
  DATABASE_URL: "libsql://app-example.turso.io",
  DATABASE_AUTH_TOKEN: "token",
};

describe("parseConfig defaults", () => {
  it("runs with an empty environment on the in-process store, the outbox and a local file database", () => {
    const config = parseConfig({});
    expect(config.isProduction).toBe(false);
    expect(config.codeStore).toEqual({ kind: "memory" });
    expect(config.mail.kind).toBe("outbox");
    expect(config.database.url).toBe("file:./data/app.db");
    expect(config.database.isLocalFile).toBe(true);
    expect(config.passwordMinLength).toBe(15);
    expect(config.codes.ttlSeconds).toBe(600);
    expect(config.codes.maxAttempts).toBe(5);
    expect(config.codes.resendCooldownSeconds).toBe(60);
    expect(config.auth.secret.length).toBeGreaterThanOrEqual(32);
  });

  it("derives the code HMAC key from AUTH_SECRET, distinct from the secret itself", () => {
    const a = parseConfig({ AUTH_SECRET: "secret-one" });
    const b = parseConfig({ AUTH_SECRET: "secret-one" });
    const c = parseConfig({ AUTH_SECRET: "secret-two" });
    expect(a.codes.hmacKey.equals(b.codes.hmacKey)).toBe(true);
    expect(a.codes.hmacKey.equals(c.codes.hmacKey)).toBe(false);
    expect(a.codes.hmacKey.toString("utf8")).not.toContain("secret-one");
  });
});

describe("parseConfig picks the code store", () => {
  it("uses Upstash when both UPSTASH variables are set, even beside REDIS_URL", () => {
    const config = parseConfig({
      UPSTASH_REDIS_REST_URL: "https://eu1-example.upstash.io",
      UPSTASH_REDIS_REST_TOKEN: "tok",
      REDIS_URL: "redis://localhost:6379",
    });
    expect(config.codeStore).toEqual({ kind: "upstash", url: "https://eu1-example.upstash.io", token: "tok" });
  });

  it("uses Redis over TCP with REDIS_URL, asking the server whether it is a cluster unless REDIS_CLUSTER says", () => {
    expect(parseConfig({ REDIS_URL: "redis://localhost:6380" }).codeStore).toEqual({ kind: "redis", url: "redis://localhost:6380", cluster: "auto" });
    expect(parseConfig({ REDIS_URL: "redis://localhost:6380", REDIS_CLUSTER: "true" }).codeStore).toMatchObject({ cluster: true });
    expect(parseConfig({ REDIS_URL: "redis://localhost:6380", REDIS_CLUSTER: "false" }).codeStore).toMatchObject({ cluster: false });
  });

  it("refuses only one of the two UPSTASH variables, naming both", () => {
    const problems = problemsOf({ UPSTASH_REDIS_REST_URL: "https://eu1-example.upstash.io" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/UPSTASH_REDIS_REST_URL/);
    expect(problems[0]).toMatch(/UPSTASH_REDIS_REST_TOKEN/);
  });
});

describe("parseConfig picks the mail transport", () => {
  it("uses Resend with RESEND_API_KEY, even beside SMTP settings", () => {
    const config = parseConfig({ RESEND_API_KEY: "re_123456789", RESEND_BASE_URL: "http://127.0.0.1:9", SMTP_HOST: "smtp.example.com" });
    expect(config.mail).toMatchObject({ kind: "resend", apiKey: "re_123456789", baseUrl: "http://127.0.0.1:9" });
  });

  it("uses SMTP with SMTP_URL", () => {
    const config = parseConfig({ SMTP_URL: "smtp://127.0.0.1:2525" });
    expect(config.mail).toMatchObject({ kind: "smtp", url: "smtp://127.0.0.1:2525" });
  });

  it("uses SMTP with SMTP_HOST and its companions", () => {
    const config = parseConfig({ SMTP_HOST: "smtp.example.com", SMTP_PORT: "465", SMTP_USER: "u", SMTP_PASSWORD: "p", SMTP_SECURE: "true" });
    expect(config.mail).toMatchObject({ kind: "smtp", host: "smtp.example.com", port: 465, user: "u", password: "p", secure: true });
  });

  it("sends from MAIL_FROM", () => {
    expect(parseConfig({ MAIL_FROM: "Shop <hello@shop.example>" }).mail.from).toBe("Shop <hello@shop.example>");
  });
});

describe("parseConfig in production", () => {
  it("refuses SMTP told to ignore TLS to another host, naming SMTP_ALLOW_PLAINTEXT; loopback, STARTTLS, smtps and the opt-in pass", () => {
    const plain = { ...PRODUCTION_OK, SMTP_URL: "smtp://user:pass@smtp.example.com:25?ignoreTLS=true" };
    expect(problemsOf(plain)).toEqual([expect.stringContaining("SMTP_ALLOW_PLAINTEXT=true")]);
    expect(problemsOf({ ...plain, SMTP_ALLOW_PLAINTEXT: "true" })).toEqual([]);
    expect(problemsOf({ ...plain, SMTP_URL: "smtp://127.0.0.1:2525?ignoreTLS=true" })).toEqual([]);
    expect(problemsOf({ ...PRODUCTION_OK, SMTP_URL: "smtps://user:pass@smtp.example.com:465" })).toEqual([]);
    expect(problemsOf(PRODUCTION_OK)).toEqual([]); // 587: STARTTLS, made mandatory by the mailer
  });

  it("paces mail to Resend's default of 2 a second, SMTP not at all, unless MAIL_RATE_PER_SECOND says otherwise", () => {
    expect(parseConfig({ RESEND_API_KEY: "re_1234567890" }).mail.ratePerSecond).toBe(2);
    expect(parseConfig({ RESEND_API_KEY: "re_1234567890", MAIL_RATE_PER_SECOND: "10" }).mail.ratePerSecond).toBe(10);
    expect(parseConfig({ SMTP_URL: "smtp://127.0.0.1:25" }).mail.ratePerSecond).toBe(0);
  });

  it("accepts a complete production environment", () => {
    const config: AppConfig = parseConfig(PRODUCTION_OK);
    expect(config.isProduction).toBe(true);
    expect(config.auth.secret).toBe(PRODUCTION_OK.AUTH_SECRET);
  });

  it("refuses a missing AUTH_SECRET, naming it", () => {
    const problems = problemsOf({ ...PRODUCTION_OK, AUTH_SECRET: undefined });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/AUTH_SECRET/);
  });

  it("refuses an AUTH_SECRET under 32 characters, saying how long it is and never what it is", () => {
    const short = "0123456789abcdef0123456789abcde";
    const problems = problemsOf({ ...PRODUCTION_OK, AUTH_SECRET: short });
    expect(problems).toEqual([expect.stringMatching(/AUTH_SECRET is too short \(31 characters, at least 32\)/)]);
    expect(problems[0]).not.toContain(short);
    expect(problemsOf({ ...PRODUCTION_OK, AUTH_SECRET: `${short}f` })).toEqual([]);
  });

  it("refuses a blank AUTH_SECRET like a missing one", () => {
    expect(problemsOf({ ...PRODUCTION_OK, AUTH_SECRET: "   " })).toEqual([expect.stringMatching(/AUTH_SECRET/)]);
  });

  it("refuses the in-process code store, naming the variables to set", () => {
    const problems = problemsOf({ ...PRODUCTION_OK, REDIS_URL: undefined });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/REDIS_URL/);
    expect(problems[0]).toMatch(/UPSTASH_REDIS_REST_URL/);
  });

  it("refuses the development outbox, naming the variables to set", () => {
    const problems = problemsOf({ ...PRODUCTION_OK, SMTP_URL: undefined });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/RESEND_API_KEY/);
    expect(problems[0]).toMatch(/SMTP_URL|SMTP_HOST/);
  });

  it("lists every problem at once", () => {
    const problems = problemsOf({ NODE_ENV: "production", AUTH_URL: "https://signup.example.com" });
    expect(problems.join("\n")).toMatch(/AUTH_SECRET/);
    expect(problems.join("\n")).toMatch(/REDIS_URL/);
    expect(problems.join("\n")).toMatch(/RESEND_API_KEY/);
    expect(problems).toHaveLength(3);
  });

  it("allows a local file database off Vercel", () => {
    expect(problemsOf({ ...PRODUCTION_OK, DATABASE_URL: "file:/var/lib/app/app.db" })).toEqual([]);
  });

  it("treats VERCEL=1 as production even without NODE_ENV", () => {
    const { NODE_ENV: _, ...env } = PRODUCTION_OK;
    const vercel = { ...env, VERCEL: "1" };
    expect(parseConfig(vercel).isProduction).toBe(true);
    expect(problemsOf({ ...vercel, AUTH_SECRET: undefined })).toEqual([expect.stringMatching(/AUTH_SECRET/)]);
    expect(problemsOf({ ...vercel, REDIS_URL: undefined })).toEqual([expect.stringMatching(/REDIS_URL/)]);
    expect(problemsOf({ ...vercel, SMTP_URL: undefined })).toEqual([expect.stringMatching(/RESEND_API_KEY/)]);
  });

  it("refuses a file: DATABASE_URL on Vercel, naming DATABASE_URL", () => {
    const problems = problemsOf({ ...PRODUCTION_OK, VERCEL: "1", DATABASE_URL: "file:./data/app.db" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/DATABASE_URL/);
  });

  it("refuses the default (file) database on Vercel when DATABASE_URL is unset", () => {
    expect(problemsOf({ ...PRODUCTION_OK, VERCEL: "1", DATABASE_URL: undefined })).toEqual([expect.stringMatching(/DATABASE_URL/)]);
  });

  it("does not refuse anything during `next build` (NEXT_PHASE=phase-production-build)", () => {
    const config = parseConfig({ NODE_ENV: "production", NEXT_PHASE: "phase-production-build" });
    expect(config.isProduction).toBe(true);
    expect(config.codeStore.kind).toBe("memory");
    expect(config.mail.kind).toBe("outbox");
    expect(problemsOf({ NODE_ENV: "production", VERCEL: "1", NEXT_PHASE: "phase-production-build" })).toEqual([]);
  });

  it("refuses missing settings at run time even though the build phase accepted them", () => {
    expect(problemsOf({ NODE_ENV: "production", NEXT_PHASE: "phase-production-server" }).length).toBeGreaterThan(0);
  });
});

describe("PASSWORD_MIN_LENGTH", () => {
  it("refuses 7, naming the variable", () => {
    const problems = problemsOf({ PASSWORD_MIN_LENGTH: "7" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/PASSWORD_MIN_LENGTH/);
  });

  it("accepts 8", () => {
    expect(parseConfig({ PASSWORD_MIN_LENGTH: "8" }).passwordMinLength).toBe(8);
  });
});

describe("passkeys' relying party", () => {
  it("takes the origin and the RP ID from AUTH_URL (path and port dropped from the RP ID)", () => {
    expect(parseConfig({ AUTH_URL: "https://login.example.com:8443/app" }).passkeys).toEqual({
      rpName: "Verified Signup",
      origin: "https://login.example.com:8443",
      rpId: "login.example.com",
    });
  });

  it("leaves both to the request's host when AUTH_URL is not set", () => {
    const { passkeys } = parseConfig({ AUTH_TRUST_HOST: "true" });
    expect(passkeys.origin).toBeUndefined();
    expect(passkeys.rpId).toBeUndefined();
  });
});

describe("relyingParty (lib/credentials/passkey-relying-party.ts)", () => {
  const headers = (values: Record<string, string>) => new Headers(values);

  it("uses AUTH_URL whatever host the request names", () => {
    const config = parseConfig({ AUTH_URL: "https://signup.example.com", TRUST_PROXY: "true" });
    expect(relyingParty(config, headers({ host: "evil.example", "x-forwarded-host": "evil.example" }))).toEqual({
      name: "Verified Signup",
      id: "signup.example.com",
      origin: "https://signup.example.com",
    });
  });

  it("without AUTH_URL takes Host, and X-Forwarded-Host/-Proto only behind a trusted proxy", () => {
    const request = headers({ host: "localhost:3000", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" });
    expect(relyingParty(parseConfig({ AUTH_TRUST_HOST: "true" }), request)).toMatchObject({ id: "localhost", origin: "http://localhost:3000" });
    expect(relyingParty(parseConfig({ AUTH_TRUST_HOST: "true", TRUST_PROXY: "true" }), request)).toMatchObject({
      id: "evil.example",
      origin: "https://evil.example",
    });
  });

  it("has none without AUTH_URL when the host is not trusted (production without AUTH_TRUST_HOST)", () => {
    const config = { ...parseConfig({}), auth: { ...parseConfig({}).auth, trustHost: false } };
    expect(relyingParty(config, headers({ host: "localhost:3000" }))).toBeUndefined();
  });
});
