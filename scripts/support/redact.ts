/**
 * Showing configuration without showing secrets: URLs lose their password and query values, secrets become
 * "set (N characters)", and any known secret value is cut out of free text (driver error messages).
 */

/** A URL with its password and query values masked; file: URLs and unparsable text are shown as they are / not at all. */
export function describeUrl(value: string): string {
  if (value.startsWith("file:")) return value;
  try {
    const url = new URL(value);
    if (url.password) url.password = "****";
    for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, "****");
    return url.toString().replace(/%2A%2A%2A%2A/g, "****");
  } catch {
    return "(set, but not a valid URL)";
  }
}

export function describeSecret(value: string | undefined): string {
  return value ? `set (${[...value].length} characters)` : "missing";
}

/** Removes every given secret (and any URL password) from a message before it is printed. */
export function redact(text: string, secrets: Array<string | undefined>): string {
  let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi, "$1****@");
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("****");
  }
  return out;
}

/** An error and its causes on one line ("Failed query" wrappers skipped for the driver's reason), secrets removed. */
export function describeError(error: unknown, secrets: Array<string | undefined>): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    if (current instanceof Error) {
      const code = (current as { code?: unknown }).code;
      if (!current.message.startsWith("Failed query")) {
        parts.push(`${current.message}${typeof code === "string" && !current.message.includes(code) ? ` (${code})` : ""}`);
      }
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return redact(parts.join(" <- ") || String(error), secrets);
}
