import { describe, expect, it } from "vitest";
import longCommonPasswords from "@/lib/credentials/password-lists/long-common.json";
import { passwordProblem } from "@/lib/credentials/password-policy";

const context = { appName: "Verified Signup", name: "Ada Lovelace", email: "ada.lovelace@example.com" };

describe("the checks a new password gets beyond its length", () => {
  it.each(["password", "iloveyou", "Password", "pass word"])("refuses the common password %j", (password) => {
    expect(passwordProblem(password, context)).toMatch(/too common/);
  });

  it.each(["1q2w3e4r5t6y7u8i", "1qaz2wsx3edc4rfv", "qwerty123456789", "QAZwsxEDCrfvTGB", "1qaz 2wsx 3edc 4rfv", "Changed Due To Fraud"])(
    "refuses %j, a common password of 15+ characters from the breach list (case, spaces and punctuation aside)",
    (password) => {
      expect(passwordProblem(password, context)).toMatch(/too common/);
    },
  );

  it("knows at least the 3,000 most common passwords as long as the policy's minimum (ASVS 6.2.4)", () => {
    const long = longCommonPasswords.filter((p) => [...p].length >= 15);
    expect(long.length).toBeGreaterThanOrEqual(3000);
    // Every one of them is refused, and the list is not refusing everything long.
    expect(long.filter((p) => !passwordProblem(p, context))).toEqual([]);
    expect(passwordProblem("velvet hammock orbit lantern 42", context)).toBeUndefined();
  });

  it("refuses a common password with digits stuck on", () => {
    expect(passwordProblem("password1234567", context)).toMatch(/common word with numbers/);
  });

  // Patterns that are not on either list, so that this rule is what refuses them.
  it.each(["zzzzzzzzzzzzzzzzzy", "234567890123456", "hijklmnopqrstuvw", "lkjhgfdsapoiuytrewq", "ponmlkjihgfedcba", "abababababababab"])(
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
