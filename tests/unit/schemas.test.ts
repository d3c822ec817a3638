import { describe, expect, it } from "vitest";
import { DEFAULT_PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH } from "@/lib/form-rules";
import { emailSchema, loginSchema, nameSchema, otpSchema, passwordSchema, registerFormSchema, registerSchema } from "@/lib/schemas";

const password = passwordSchema(DEFAULT_PASSWORD_MIN_LENGTH);
const accepts = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) => schema.safeParse(value).success;

const E_COMBINING = "e\u0301"; // "e" + COMBINING ACUTE ACCENT: NFC makes it one code point, "é"
const EMOJI = "😀"; // one code point, two UTF-16 units

describe("password", () => {
  it("needs 15 characters by default: 14 is refused, 15 accepted", () => {
    expect(DEFAULT_PASSWORD_MIN_LENGTH).toBe(15);
    expect(accepts(password, "a".repeat(14))).toBe(false);
    expect(accepts(password, "a".repeat(15))).toBe(true);
  });

  it("says how many characters are needed", () => {
    const result = password.safeParse("short");
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/15/);
  });

  it("counts e + combining accent as one character (after NFC)", () => {
    const fourteenPlusAccent = "a".repeat(13) + E_COMBINING; // 15 UTF-16 units, 14 code points after NFC
    expect(fourteenPlusAccent.length).toBe(15);
    expect(accepts(password, fourteenPlusAccent)).toBe(false);
    expect(accepts(password, "a".repeat(14) + E_COMBINING)).toBe(true);
  });

  it("returns the NFC form, so the same password typed either way hashes the same", () => {
    const decomposed = "a".repeat(14) + E_COMBINING;
    expect(password.parse(decomposed)).toBe("a".repeat(14) + "\u00e9");
    expect(loginSchema.parse({ email: "a@example.com", password: decomposed }).password).toBe("a".repeat(14) + "\u00e9");
  });

  it("counts an emoji as one character", () => {
    expect(EMOJI.repeat(8).length).toBe(16);
    expect(accepts(password, EMOJI.repeat(8))).toBe(false);
    expect(accepts(password, EMOJI.repeat(14))).toBe(false);
    expect(accepts(password, EMOJI.repeat(15))).toBe(true);
  });

  it("allows at most 128 characters, counting code points", () => {
    expect(PASSWORD_MAX_LENGTH).toBe(128);
    expect(accepts(password, "a".repeat(128))).toBe(true);
    expect(accepts(password, "a".repeat(129))).toBe(false);
    expect(accepts(password, EMOJI.repeat(128))).toBe(true);
    expect(accepts(password, EMOJI.repeat(129))).toBe(false);
  });

  it("allows spaces, including leading and trailing ones, and keeps them", () => {
    const spaced = "  correct horse battery staple  ";
    expect(password.parse(spaced)).toBe(spaced);
    expect(accepts(password, " ".repeat(15))).toBe(true);
  });

  it("imposes no composition rules: lower-case letters only are fine", () => {
    expect(accepts(password, "correcthorsebatterystaple")).toBe(true);
    expect(accepts(password, "123456789012345")).toBe(true);
  });

  it("follows the configured minimum", () => {
    expect(accepts(passwordSchema(8), "a".repeat(8))).toBe(true);
    expect(accepts(passwordSchema(8), "a".repeat(7))).toBe(false);
  });
});

describe("email", () => {
  it("is trimmed and lower-cased", () => {
    expect(emailSchema.parse("  Ada.Lovelace@Example.COM \t")).toBe("ada.lovelace@example.com");
  });

  it("refuses what is not an address", () => {
    expect(accepts(emailSchema, "")).toBe(false);
    expect(accepts(emailSchema, "   ")).toBe(false);
    expect(accepts(emailSchema, "ada")).toBe(false);
    expect(accepts(emailSchema, "ada@")).toBe(false);
    expect(accepts(emailSchema, "ada@example")).toBe(false);
  });

  it("refuses more than 254 characters", () => {
    const local = "a".repeat(64);
    const domain = `${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(60)}.com`;
    const ok = `${local}@${domain}`;
    expect(ok.length).toBeLessThanOrEqual(254);
    expect(accepts(emailSchema, ok)).toBe(true);
    const long = `${local}@${"e".repeat(60)}.${domain}`;
    expect(long.length).toBeGreaterThan(254);
    expect(accepts(emailSchema, long)).toBe(false);
  });
});

describe("otp", () => {
  it("accepts six digits, also grouped with a space or a dash, and returns the six digits", () => {
    expect(otpSchema.parse("123456")).toBe("123456");
    expect(otpSchema.parse("123 456")).toBe("123456");
    expect(otpSchema.parse("123-456")).toBe("123456");
    expect(otpSchema.parse("012345")).toBe("012345");
  });

  it("refuses five or seven digits", () => {
    expect(accepts(otpSchema, "12345")).toBe(false);
    expect(accepts(otpSchema, "1234567")).toBe(false);
    expect(accepts(otpSchema, "123 4567")).toBe(false);
  });

  it("refuses letters and other characters", () => {
    expect(accepts(otpSchema, "12345a")).toBe(false);
    expect(accepts(otpSchema, "abcdef")).toBe(false);
    expect(accepts(otpSchema, "12.456")).toBe(false);
    expect(accepts(otpSchema, "")).toBe(false);
    expect(accepts(otpSchema, "١٢٣٤٥٦")).toBe(false); // Arabic-Indic digits are not \d
  });
});

describe("name", () => {
  it("accepts 1 to 100 characters, trimmed", () => {
    expect(nameSchema.parse("  A  ")).toBe("A");
    expect(accepts(nameSchema, "x".repeat(100))).toBe(true);
  });

  it("refuses an empty or blank name and more than 100 characters", () => {
    expect(accepts(nameSchema, "")).toBe(false);
    expect(accepts(nameSchema, "   ")).toBe(false);
    expect(accepts(nameSchema, "x".repeat(101))).toBe(false);
  });

  it("refuses control characters", () => {
    expect(accepts(nameSchema, "Ada\u0000Lovelace")).toBe(false);
    expect(accepts(nameSchema, "Ada\nLovelace")).toBe(false);
  });
});

describe("registerSchema", () => {
  it("drops unknown keys such as role and isActive", () => {
    const parsed = registerSchema(15).parse({
      name: "Ada",
      email: "ada@example.com",
      password: "correct horse battery staple",
      role: "admin",
      isActive: true,
    });
    expect(parsed).toEqual({ name: "Ada", email: "ada@example.com", password: "correct horse battery staple" });
  });

  it("the form variant refuses a confirmation that does not match, on the confirmation field", () => {
    const result = registerFormSchema(15).safeParse({
      name: "Ada",
      email: "ada@example.com",
      password: "correct horse battery staple",
      passwordConfirmation: "correct horse battery stapler",
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join("."))).toEqual(["passwordConfirmation"]);
  });

  it("the form variant matches a confirmation typed in another Unicode normal form", () => {
    const result = registerFormSchema(15).safeParse({
      name: "Ada",
      email: "ada@example.com",
      password: "a".repeat(14) + "\u00e9",
      passwordConfirmation: "a".repeat(14) + E_COMBINING,
    });
    expect(result.success).toBe(true);
  });
});
