import fc from "fast-check";
import { objectText } from "./http-client";

/**
 * The fast-check generators the JSON API fuzz suites share: hostile strings, any JSON-ish value, keys that
 * would pollute a prototype, and plausible emails, passwords and codes, so some bodies reach the services.
 */

/** Strings that break careless parsers, normalisers, templates or length checks. */
const HOSTILE_STRINGS = [
  "",
  "\u0000",
  "a\u0000b@example.test",
  "__proto__",
  "constructor",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "\uD800",
  "\u202Eevil",
  "𝕬𝖉𝖆 🦄",
  "Ａｄａ@ＥＸＡＭＰＬＥ.ｔｅｓｔ",
  "x".repeat(20_000),
  "é".repeat(9_000),
  "1".repeat(7),
  "12345\u0000",
  "{{7*7}}",
  "../../etc/passwd",
];

export interface FuzzOptions {
  /** Hostile strings beyond the shared list. */
  moreHostileStrings?: string[];
  /** Whether short grapheme strings are one of the string arms. */
  graphemes?: boolean;
  /** Keys added beside the fields of an object body. */
  dangerousKeys: string[];
}

export function fuzzArbitraries({ moreHostileStrings = [], graphemes = false, dangerousKeys }: FuzzOptions) {
  const hostileStrings = [...HOSTILE_STRINGS, ...moreHostileStrings];
  const hostileString = fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
    ...(graphemes ? [{ weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) }] : []),
    { weight: 3, arbitrary: fc.constantFrom(...hostileStrings) },
    { weight: 1, arbitrary: fc.string({ minLength: 200, maxLength: 600 }) },
  );
  const anyValue: fc.Arbitrary<unknown> = fc.oneof(
    { weight: 4, arbitrary: hostileString },
    { weight: 1, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.double() },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(hostileString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) },
  );
  const dangerousKey = fc.constantFrom(...dangerousKeys);
  const fuzzEmail = fc.oneof(
    { weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9._+-]{0,19}$/).map((local) => `${local}@fuzz.example.test`) },
    { weight: 1, arbitrary: fc.emailAddress() },
    { weight: 1, arbitrary: fc.constantFrom(...hostileStrings) },
  );
  const fuzzPassword = fc.oneof(
    { weight: 3, arbitrary: fc.string({ minLength: 15, maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 15, maxLength: 30 }) },
    { weight: 1, arbitrary: fc.constantFrom(...hostileStrings) },
  );
  const fuzzOtp = fc.oneof(
    { weight: 3, arbitrary: fc.stringMatching(/^\d{6}$/) },
    { weight: 1, arbitrary: fc.stringMatching(/^\d{3}[ -]\d{3}$/) },
    { weight: 1, arbitrary: hostileString },
  );
  /** The object `fields` draws, as JSON text, with up to `maxExtra` dangerous keys beside its fields. */
  const objectBody = (fields: fc.Arbitrary<Record<string, unknown>>, maxExtra: number): fc.Arbitrary<string> =>
    fc
      .tuple(fields, fc.array(fc.tuple(dangerousKey, fc.jsonValue({ maxDepth: 2 })), { maxLength: maxExtra }))
      .map(([values, extra]) => objectText(values, extra));
  return { hostileStrings, hostileString, anyValue, dangerousKey, fuzzEmail, fuzzPassword, fuzzOtp, objectBody };
}
