import { describe, expect, it } from "vitest";
import { networkPrefix } from "@/lib/sessions/session-device";

describe("networkPrefix (what a session row keeps of the client's address)", () => {
  it.each([
    ["203.0.113.57", "203.0.113.0/24"],
    ["::ffff:198.51.100.9", "198.51.100.0/24"],
    ["2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48"],
    ["2001:DB8::1", "2001:db8:0::/48"],
    ["2001::2:3:4:5:6:7", "2001:0:2::/48"],
    ["::1", "0:0:0::/48"],
  ])("%s -> %s", (ip, prefix) => {
    expect(networkPrefix(ip)).toBe(prefix);
  });

  it.each(["unknown", "", "203.0.113", "not:an:address:at:all"])("%j is not an address: nothing is kept", (ip) => {
    expect(networkPrefix(ip)).toBeUndefined();
  });
});
