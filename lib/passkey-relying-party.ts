import type { AppConfig } from "./config";

/** Who the passkeys belong to, as the browser must see it: the site's origin and its host name (the RP ID). */
export interface RelyingParty {
  name: string;
  id: string;
  origin: string;
}

/**
 * AUTH_URL decides when it is set. Without it the app runs under AUTH_TRUST_HOST (or in development), and, like
 * Auth.js there, takes the host the request names: a forged host cannot help anyone, since a browser only ever
 * lets an authenticator sign for the site it is really on. Browsers refuse WebAuthn on an IP address, so open
 * the site by a name (localhost in development and in the browser tests).
 */
export function relyingParty(config: Pick<AppConfig, "passkeys" | "auth">, headers: Headers): RelyingParty | undefined {
  const { rpName, origin, rpId } = config.passkeys;
  if (origin && rpId) return { name: rpName, id: rpId, origin };
  if (!config.auth.trustHost) return undefined;
  const host = first(headers.get("x-forwarded-host")) ?? first(headers.get("host"));
  if (!host) return undefined;
  const protocol = first(headers.get("x-forwarded-proto")) === "https" ? "https" : "http";
  try {
    const url = new URL(`${protocol}://${host}`);
    return { name: rpName, id: url.hostname, origin: url.origin };
  } catch {
    return undefined;
  }
}

function first(value: string | null): string | undefined {
  const entry = value?.split(",")[0]?.trim();
  return entry || undefined;
}
