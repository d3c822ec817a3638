import "server-only";
import type { RequestContext } from "../accounts/accounts";
import { clientIp } from "./client-ip";
import { getConfig } from "../platform/config";

/** The per-request facts the service needs, read from the request's headers. */
export function requestContext(headers: Headers): RequestContext {
  const config = getConfig();
  return { ip: clientIp(headers, { trustProxy: config.trustProxy, onVercel: config.onVercel }) };
}
