/**
 * Whether a request carries an Auth.js session cookie under any of its names (__Host-/__Secure- prefixes,
 * chunks .0, .1 … of a large token). Only a hint: whoever needs the session still reads and checks it.
 */
export function hasSessionCookie(names: Iterable<string>): boolean {
  for (const name of names) if (name.includes("authjs.session-token")) return true;
  return false;
}
