import "server-only";
import { dictionary } from "@zxcvbn-ts/language-common";
import longCommonPasswords from "./password-lists/long-common.json";

/**
 * The checks a new password gets beyond length (NIST SP 800-63B §3.1.1.2, ASVS 6.2.4 / 6.2.11):
 * not one of the ~49,000 most common passwords (zxcvbn-ts's list) nor one of the ~9,700 of 15 or more
 * characters among the top million of a breach corpus (lib/credentials/password-lists/README.md), and not built
 * around the product's name, the person's name or their email's local part. Server-side only: the
 * lists stay off the client.
 */

const squash = (value: string) => value.toLowerCase().replace(/[\s\p{P}\p{S}_]+/gu, "");

let common: Set<string> | undefined;
/** Each entry lower-cased and, where it has punctuation, squashed too ("patricia.miguel" as typed "patricia-miguel"). */
function commonPasswords(): Set<string> {
  if (common) return common;
  common = new Set();
  for (const entry of [...(dictionary as { "passwords-common": string[] })["passwords-common"], ...longCommonPasswords]) {
    const lowered = entry.toLowerCase();
    common.add(lowered);
    const squashed = squash(lowered);
    if (squashed !== lowered && squashed.length >= 8) common.add(squashed);
  }
  return common;
}

export function passwordProblem(password: string, context: { appName: string; name?: string; email?: string }): string | undefined {
  const lowered = password.toLowerCase();
  const squashed = squash(password);
  if (commonPasswords().has(lowered) || commonPasswords().has(squashed)) {
    return "That password is too common. Choose something less predictable, like a few unrelated words.";
  }
  // A common password with digits stuck on ("password1234567") is guessed right after the list itself.
  const core = squashed.replace(/^\d+|\d+$/g, "");
  if (core !== squashed && core.length >= 4 && commonPasswords().has(core)) {
    return "That password is a common word with numbers added. Choose something less predictable.";
  }
  // Long but trivially guessable: one or two distinct characters, or a run along the keyboard or alphabet.
  if (new Set(squashed).size <= 2 || isSequence(squashed)) {
    return "That password is a simple pattern. Choose something less predictable, like a few unrelated words.";
  }
  // A repeated word or pattern ("passwordpassword", "monkey" six times) is as guessable as the word itself,
  // however many times it is repeated.
  const unit = repeatedUnit(squashed);
  if (unit && (unit.length < 4 || commonPasswords().has(unit) || isSequence(unit) || /^\d+$/.test(unit))) {
    return "That password is a repeated word or pattern. Choose something less predictable.";
  }
  // A long run along the keyboard, alphabet or digits with a little added ("12345678901234567890abc").
  const run = longestSequenceRun(squashed);
  if (run >= 6 && squashed.length - run < 8) {
    return "That password is a simple pattern. Choose something less predictable, like a few unrelated words.";
  }
  const words = [context.appName, context.name, context.email?.split("@")[0]]
    .flatMap((w) =>
      w
        ? [
            squash(w),
            ...w
              .toLowerCase()
              .split(/[\s._+-]+/)
              .map(squash),
          ]
        : [],
    )
    .filter((w) => w.length >= 4);
  for (const word of words) {
    // What is left once the context word is taken out must be a password on its own.
    if (squashed.includes(word) && squashed.replaceAll(word, "").length < 8) {
      return "Your password is too close to your name, your email or this site's name. Choose something else.";
    }
  }
  return undefined;
}

/** The shortest string the password is a repetition of (two or more times), or undefined. */
function repeatedUnit(value: string): string | undefined {
  const period = (value + value).indexOf(value, 1);
  return period > 0 && period < value.length ? value.slice(0, period) : undefined;
}

/** The length of the longest stretch of the password that is itself a sequence (isSequence). */
function longestSequenceRun(value: string): number {
  let longest = 0;
  for (let start = 0; start < value.length; start++) {
    for (let end = value.length; end - start > Math.max(longest, 5); end--) {
      if (isSequence(value.slice(start, end))) {
        longest = end - start;
        break;
      }
    }
  }
  return longest;
}

const SEQUENCES = [
  "abcdefghijklmnopqrstuvwxyz",
  "qwertyuiopasdfghjklzxcvbnm",
  "qwertzuiopasdfghjklyxcvbnm",
  "azertyuiopqsdfghjklmwxcvbn",
  "01234567890123456789",
];

/** A stretch of a keyboard row, the alphabet or the digits, forwards or backwards, possibly wrapped around. */
function isSequence(value: string): boolean {
  if (value.length < 6) return false;
  return SEQUENCES.some((sequence) => {
    const twice = sequence + sequence;
    const reversed = [...twice].reverse().join("");
    return value.length <= twice.length && (twice.includes(value) || reversed.includes(value));
  });
}
