/**
 * Auth.js's session cookie under each of its names (__Host-/__Secure- prefixes), in chunks .0, .1 … when large.
 * Only chunks .0 to .9 are read: the number becomes an array index, and a forged `.150000000` would make a
 * 150-million-slot join that holds the event loop for seconds. Auth.js cuts chunks of 3,936 characters
 * (@auth/core lib/utils/cookie.js), so ten are about 39 kB, more than Node's 16 KiB of request headers admits.
 */
const SESSION_COOKIE = /^((?:__Secure-|__Host-)?authjs\.session-token)(?:\.(\d))?$/;

/** Whether a request carries a session cookie. Only a hint: whoever needs the session still reads and checks it. */
export function hasSessionCookie(names: Iterable<string>): boolean {
  for (const name of names) if (SESSION_COOKIE.test(name)) return true;
  return false;
}

/**
 * Each session token the cookies may carry, as [cookie name (Auth.js's salt for it), token], chunks joined in
 * order as Auth.js does. A header can repeat a name ("a=OLD; a=x"): Auth.js reads the first, other parsers the
 * last, so both readings are returned, and whoever ends "the session this request came with" ends either.
 */
export function sessionTokens(cookies: Iterable<{ name: string; value: string }>): Array<[string, string]> {
  const first = new Map<string, string[]>();
  const last = new Map<string, string[]>();
  for (const { name, value } of cookies) {
    const match = SESSION_COOKIE.exec(name);
    if (!match?.[1]) continue;
    const index = match[2] === undefined ? 0 : Number(match[2]);
    for (const [chunksByName, keep] of [
      [first, true],
      [last, false],
    ] as const) {
      const chunks = chunksByName.get(match[1]) ?? [];
      if (!keep || chunks[index] === undefined) chunks[index] = value;
      chunksByName.set(match[1], chunks);
    }
  }
  const tokens = new Map<string, [string, string]>();
  for (const chunksByName of [first, last]) {
    for (const [name, chunks] of chunksByName) tokens.set(`${name}=${chunks.join("")}`, [name, chunks.join("")]);
  }
  return [...tokens.values()];
}

/** Every name=value pair of a Cookie header, repeats kept (Next's parsed cookies keep one value per name). */
export function cookiePairs(header: string | null): Array<{ name: string; value: string }> {
  if (!header) return [];
  return header.split(";").flatMap((part) => {
    const at = part.indexOf("=");
    if (at < 0) return [];
    const name = part.slice(0, at).trim();
    let value = part.slice(at + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      value = decodeURIComponent(value);
    } catch {
      // Left as sent: it will simply not decrypt.
    }
    return name ? [{ name, value }] : [];
  });
}
