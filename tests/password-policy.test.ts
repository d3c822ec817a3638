import { describe, expect, it } from "vitest";
import { passwordProblem } from "@/lib/password-policy";

const context = { appName: "Verified Signup", name: "Ada Lovelace", email: "ada.lovelace@example.com" };

describe("the checks a new password gets beyond its length", () => {
  it.each(["password", "iloveyou", "Password", "pass word"])("refuses the common password %j", (password) => {
    expect(passwordProblem(password, context)).toMatch(/too common/);
  });

  it("refuses a common password with digits stuck on", () => {
    expect(passwordProblem("password1234567", context)).toMatch(/common word with numbers/);
  });

  it.each(["aaaaaaaaaaaaaaa", "123456789012345", "abcdefghijklmnop", "qwertyuiopasdfghjkl", "ponmlkjihgfedcba", "abababababababab"])(
    "refuses the long but simple pattern %j",
    (password) => {
      expect(passwordProblem(password, context)).toMatch(/simple pattern/);
    },
  );

  it("refuses a repeated common word", () => {
    expect(passwordProblem("iloveyou iloveyou", context)).toBeDefined();
  });

  it.each(["verifiedsignup2024!", "ada lovelace 1815", "adalovelace adalovelace"])("refuses %j, built on the product's or the person's name", (password) => {
    expect(passwordProblem(password, context)).toBeDefined();
  });

  it.each(["correct horse battery staple", "a brand new long passphrase", "Tuesday rain on the old harbour wall"])("accepts the passphrase %j", (password) => {
    expect(passwordProblem(password, context)).toBeUndefined();
  });
});
