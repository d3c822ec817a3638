import { createClient } from "redis";
import { describe, expect, it } from "vitest";
import type { TestStack } from "@/testing/services/app-server";
import { registerAndVerify } from "@/testing/http-client";
import { withGuessingStack } from "@/testing/guessing";
import { uniqueEmail } from "@/testing/people";

/**
 * The production build (`next start`) on a real three-master Redis Cluster (testing/services/redis-cluster.ts),
 * told nothing about it: the app finds out from the server. A representative walk through the limits whose
 * counters live in other slots than the records they guard: a client network's buckets (/64, /56, /48,
 * one slot each), the product-wide guessing counter, and the per-IP login budget checked with an account's.
 */

const PASSWORD = "velvet hammock orbit lantern 42";

let stack: TestStack;
const { post, alarmEvents, guessReset } = withGuessingStack({ snapshotPrefix: "http-redis-cluster-", redisCluster: true }, (started) => {
  stack = started;
});

/** The n-th /64 of the /56 `prefix:byte56xx::/56`. */
const subnet64 = (prefix: string, byte56: number, n: number) => `${prefix}:${((byte56 << 8) | (n & 0xff)).toString(16)}::${(n % 7) + 1}`;

describe("the app on a Redis Cluster", () => {
  it("a signup is registered, verified and signs in", async () => {
    const email = uniqueEmail("cluster-walk");
    await registerAndVerify(post, stack.sink, { email, password: PASSWORD });
    const login = await post("/api/login", { email, password: PASSWORD });
    expect(login.status, login.text).toBe(200);
  });

  it("120 wrong reset codes from 120 /64s of one /56 (4 per address) spend the /56's budget: its next /64 is refused 429, another /56 is not; the product-wide alarm counted them", async () => {
    let email = uniqueEmail("spray");
    for (let n = 0; n < 120; n++) {
      if (n % 4 === 0) email = uniqueEmail("spray");
      const r = await guessReset(email, subnet64("2001:db8:c1", 0x56, n));
      expect(r.status, r.text).toBe(400);
    }
    const next = await guessReset(uniqueEmail("spray"), subnet64("2001:db8:c1", 0x56, 200));
    expect(next.status, next.text).toBe(429);
    expect(Number(next.headers.get("retry-after"))).toBeGreaterThan(3000);
    const elsewhere = await guessReset(uniqueEmail("spray"), subnet64("2001:db8:c1", 0x57, 1));
    expect(elsewhere.status, elsewhere.text).toBe(400);
    // The guessing counter has its own slot: it still saw every wrong code (the alarm's level is 100).
    expect(alarmEvents().length).toBeGreaterThanOrEqual(1);
  });

  it("30 failed logins from one client across addresses spend its budget: then a right password from it is refused 429, from another client it signs in", async () => {
    const owner = uniqueEmail("login-owner");
    await registerAndVerify(post, stack.sink, { email: owner, password: PASSWORD });
    const ip = "198.51.100.30";
    for (let n = 0; n < 30; n++) {
      const r = await post("/api/login", { email: uniqueEmail("login-spray"), password: "not the password at all, friend" }, { ip });
      expect(r.status, r.text).toBe(401);
    }
    const refused = await post("/api/login", { email: owner, password: PASSWORD }, { ip });
    expect(refused.status, refused.text).toBe(429);
    const elsewhere = await post("/api/login", { email: owner, password: PASSWORD }, { ip: "198.51.100.31" });
    expect(elsewhere.status, elsewhere.text).toBe(200);
  });

  it("the keys the app wrote are spread over all three masters (it runs as a cluster client, not against one node)", async () => {
    const nodes = await clusterNodePorts(stack.redis.url);
    expect(nodes).toHaveLength(3);
    for (const port of nodes) {
      const client = await createClient({ url: `redis://127.0.0.1:${port}` }).connect();
      try {
        expect(await client.dbSize(), `keys on the master at ${port}`).toBeGreaterThan(0);
      } finally {
        await client.close();
      }
    }
  });
});

async function clusterNodePorts(url: string): Promise<number[]> {
  const client = await createClient({ url }).connect();
  try {
    const nodes = String(await client.sendCommand(["CLUSTER", "NODES"]));
    return nodes
      .split("\n")
      .filter((line) => line.includes("master"))
      .map((line) => Number(/:(\d+)@/.exec(line)![1]));
  } finally {
    await client.close();
  }
}
