import { afterEach, describe, expect, it, vi } from "vitest";
import { clientIp, SOCKET_ADDRESS_HEADER } from "@/lib/web/client-ip";

/**
 * Which address the per-IP limits count (lib/web/client-ip.ts): a forwarded header only when the deployment
 * says a proxy in front sets it, otherwise the socket address server.mjs passes in its own header.
 */

const headers = (entries: Record<string, string>) => new Headers(entries);

afterEach(() => {
  vi.restoreAllMocks();
});

describe("clientIp", () => {
  it("on Vercel takes x-real-ip, whatever X-Forwarded-For claims", () => {
    const h = headers({ "x-real-ip": " 203.0.113.9 ", "x-forwarded-for": "198.51.100.1, 198.51.100.2" });
    expect(clientIp(h, { trustProxy: true, onVercel: true })).toBe("203.0.113.9");
  });

  it("behind a trusted proxy takes the last X-Forwarded-For entry (the one the proxy appended), not what the client claimed first", () => {
    const h = headers({ "x-forwarded-for": "6.6.6.6, 198.51.100.7 , 203.0.113.50", [SOCKET_ADDRESS_HEADER]: "10.0.0.2" });
    expect(clientIp(h, { trustProxy: true })).toBe("203.0.113.50");
    // On Vercel without x-real-ip, the same rule.
    expect(clientIp(h, { trustProxy: true, onVercel: true })).toBe("203.0.113.50");
  });

  it("without a trusted proxy, the socket address from server.mjs wins over any X-Forwarded-For the client sends", () => {
    const h = headers({ "x-forwarded-for": "6.6.6.6", "x-real-ip": "7.7.7.7", [SOCKET_ADDRESS_HEADER]: " 192.0.2.44 " });
    expect(clientIp(h, { trustProxy: false })).toBe("192.0.2.44");
  });

  it("under bare next start (no socket header) falls back to the last X-Forwarded-For entry, warning once, and to 'unknown' without one", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(clientIp(headers({ "x-forwarded-for": "198.51.100.1, 192.0.2.8" }), { trustProxy: false })).toBe("192.0.2.8");
    expect(clientIp(headers({}), { trustProxy: false })).toBe("unknown");
    // The module is fresh in this file (vitest isolates files), and only this test reaches the fallback.
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain("client_ip_unverified");
  });
});
