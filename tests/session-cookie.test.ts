import { describe, expect, it } from "vitest";
import { hasSessionCookie, sessionTokens } from "@/lib/session-cookie";

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
