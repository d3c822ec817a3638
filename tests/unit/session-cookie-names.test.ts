import { describe, expect, it } from "vitest";
import { cookiePairs, hasSessionCookie, sessionTokens } from "@/lib/sessions/session-cookie";

describe("session cookie names", () => {
  it("joins chunks .0 to .9 in order and ignores chunk numbers Auth.js never writes (.10, .150000000)", () => {
    const tokens = sessionTokens([
      { name: "authjs.session-token.1", value: "b" },
      { name: "authjs.session-token.0", value: "a" },
      { name: "authjs.session-token.150000000", value: "x" },
      { name: "authjs.session-token.10", value: "y" },
      { name: "__Secure-authjs.session-token", value: "s" },
    ]);
    expect([...tokens]).toEqual([
      ["authjs.session-token", "ab"],
      ["__Secure-authjs.session-token", "s"],
    ]);
    expect(hasSessionCookie(["authjs.session-token.150000000"])).toBe(false);
    expect(hasSessionCookie(["__Host-authjs.session-token.3"])).toBe(true);
  });
});

describe("a Cookie header that repeats a name", () => {
  it("yields both readings (Auth.js takes the first value, other parsers the last), for whole and chunked tokens", () => {
    expect(sessionTokens(cookiePairs("authjs.session-token=OLD; authjs.session-token=x"))).toEqual([
      ["authjs.session-token", "OLD"],
      ["authjs.session-token", "x"],
    ]);
    expect(sessionTokens(cookiePairs("authjs.session-token.0=a; authjs.session-token.1=b; authjs.session-token.1=x"))).toEqual([
      ["authjs.session-token", "ab"],
      ["authjs.session-token", "ax"],
    ]);
  });

  it("reads pairs as sent: quoted and percent-encoded values, no empty names", () => {
    expect(cookiePairs('a="q%3D"; =nameless; b=%E0%A4%A')).toEqual([
      { name: "a", value: "q=" },
      { name: "b", value: "%E0%A4%A" },
    ]);
    expect(cookiePairs(null)).toEqual([]);
  });
});
