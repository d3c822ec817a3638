/** Reading client addresses the same way wherever they are grouped (rate limits, session records). */

/** Trimmed, lower-cased, an IPv4-mapped IPv6 address ("::ffff:1.2.3.4") read as the IPv4 address. */
export function plainAddress(ip: string): string {
  return ip
    .trim()
    .toLowerCase()
    .replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
}

/** The eight 16-bit groups of an IPv6 address, "::" expanded; groups that do not parse count as 0. */
export function ipv6Groups(address: string): number[] {
  const [head, tail = ""] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right] : left;
  return groups.map((g) => parseInt(g, 16) || 0);
}
