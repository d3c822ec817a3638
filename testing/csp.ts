/** A Content-Security-Policy header's directives by name ("script-src" -> "script-src 'self' 'nonce-…'"). */
export function cspDirectives(csp: string): Map<string, string> {
  return new Map(
    csp
      .split(";")
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => [d.split(/\s+/)[0] ?? "", d] as const),
  );
}
