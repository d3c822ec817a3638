import "server-only";
import type { AppConfig } from "../platform/config";

/** Who the passkeys belong to, as the browser must see it: the site's origin and its host name (the RP ID). */
export interface RelyingParty {
  name: string;
  id: string;
  origin: string;
}

/**
 * AUTH_URL decides when it is set. Without it (AUTH_TRUST_HOST, or development) the host the request names does:
 * X-Forwarded-Host and -Proto only behind a proxy the deployment trusts (TRUST_PROXY, Vercel), else Host. Then the
 * phishing resistance of passkeys rests on that host being the site's own: a relay that reaches the app under
 * another name would have its own name accepted. So production sets AUTH_URL, or a proxy that answers only the
 * site's own names. Browsers refuse WebAuthn on an IP address: open the site by a name (the browser tests use
 * localhost).
 */
export function relyingParty(config: Pick<AppConfig, "passkeys" | "auth" | "trustProxy">, headers: Headers): RelyingParty | undefined {
  const { rpName, origin, rpId } = config.passkeys;
  if (origin && rpId) return { name: rpName, id: rpId, origin };
  if (!config.auth.trustHost) return undefined;
  const forwarded = config.trustProxy ? first(headers.get("x-forwarded-host")) : undefined;
  const host = forwarded ?? first(headers.get("host"));
  if (!host) return undefined;
  const protocol = config.trustProxy && first(headers.get("x-forwarded-proto")) === "https" ? "https" : "http";
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
