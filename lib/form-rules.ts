/**
 * Form rules that the schemas (lib/schemas.ts), the fields in the browser and the config share. No zod here:
 * a field imports these without pulling zod into its page's first load.
 */

/** The shortest new password when PASSWORD_MIN_LENGTH is not set (lib/platform/config.ts). */
export const DEFAULT_PASSWORD_MIN_LENGTH = 15;
export const PASSWORD_MAX_LENGTH = 128;

/** A code sent by email, or shown by an authenticator app: six digits. */
export const CODE_LENGTH = 6;

/** People paste "123 456" or "123-456", or type "abcde-fghij": spaces and dashes are not part of a code. */
export function withoutSeparators(value: string): string {
  return value.replace(/[\s-]/g, "");
}

/** What a code field keeps of what was typed or pasted: the digits, at most six ("Your code: 123 456" gives "123456"). */
export function codeDigits(text: string): string {
  return text.replace(/\D/g, "").slice(0, CODE_LENGTH);
}
