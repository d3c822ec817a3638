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

/** Each session token the cookies carry, by cookie name (Auth.js's salt for it), chunks joined in order as Auth.js does. */
export function sessionTokens(cookies: Iterable<{ name: string; value: string }>): Map<string, string> {
  const chunksByName = new Map<string, string[]>();
  for (const { name, value } of cookies) {
    const match = SESSION_COOKIE.exec(name);
    if (!match) continue;
    const chunks = chunksByName.get(match[1]) ?? [];
    chunks[match[2] === undefined ? 0 : Number(match[2])] = value;
    chunksByName.set(match[1], chunks);
  }
  return new Map([...chunksByName].map(([name, chunks]) => [name, chunks.join("")]));
}
