import "server-only";
import { isIP } from "node:net";
import { clientIp } from "../web/client-ip";
import { getConfig } from "../platform/config";
import { ipv6Groups, plainAddress } from "../codes/ip-address";

/** What a session row records about where it was started: enough to recognise a device, not to locate a person. */
export interface SessionDevice {
  userAgent?: string;
  ipPrefix?: string;
}

const MAX_USER_AGENT = 256;

export function sessionDevice(headers: Headers): SessionDevice {
  const config = getConfig();
  const userAgent = headers.get("user-agent")?.slice(0, MAX_USER_AGENT) || undefined;
  return { userAgent, ipPrefix: networkPrefix(clientIp(headers, { trustProxy: config.trustProxy, onVercel: config.onVercel })) };
}

/** The network an address belongs to: IPv4 /24, IPv6 /48; undefined for anything that is not an address. */
export function networkPrefix(ip: string): string | undefined {
  const address = plainAddress(ip);
  const version = isIP(address);
  if (version === 4) return `${address.split(".").slice(0, 3).join(".")}.0/24`;
  if (version !== 6) return undefined;
  return `${ipv6Groups(address)
    .slice(0, 3)
    .map((g) => g.toString(16))
    .join(":")}::/48`;
}
