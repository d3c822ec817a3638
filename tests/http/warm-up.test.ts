import { readFileSync } from "node:fs";
import { createClient } from "@libsql/client";
import { describe, expect, it } from "vitest";
import type { TestStack } from "@/testing/services/app-server";
import { withRedisClient } from "@/testing/services/redis-client";
import { withTestStack } from "@/testing/http-client";
import { WARM_UP_HEADER, WARM_UP_PATH } from "@/lib/platform/warm-up";

/**
 * The warm-up a fresh `next start` runs after its first page (lib/platform/warm-up.ts): the process asks itself,
 * once, to run what a signup runs for the first time, and nothing is written anywhere. Nobody else can ask.
 * Its effect on the first signup's latency is measured by `npm run bench` (cold phase), not here.
 */

let stack: TestStack;

withTestStack({ root: process.cwd(), snapshotPrefix: "http-warm-up-", readyPath: "/register" }, (started) => {
  stack = started;
});

const serverLog = () => readFileSync(stack.logFile, "utf8");
const warmUps = () => serverLog().split('"event":"warm_up"').length - 1;

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms; server log:\n${serverLog().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("the warm-up after the first page", () => {
  it("runs once, in the process itself, and writes nothing to the database, the code store or anyone's inbox", async () => {
    await until(() => warmUps() > 0, 30_000);
    expect(serverLog()).not.toContain("warm_up_failed");
    // More pages do not start it again.
    for (const path of ["/login", "/register", "/forgot-password"]) expect((await fetch(`${stack.baseUrl}${path}`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(warmUps()).toBe(1);

    expect(await withRedisClient(stack.redis.url, (client) => client.dbSize())).toBe(0);
    const db = createClient({ url: stack.databaseUrl });
    try {
      const users = await db.execute("select count(*) as n from users");
      expect(Number(users.rows[0]!.n)).toBe(0);
    } finally {
      db.close();
    }
    expect(stack.sink.messages).toHaveLength(0);
  });

  it("answers anyone else's request with a 404 and does nothing", async () => {
    const before = warmUps();
    const attempts: Array<Record<string, string>> = [
      {},
      { [WARM_UP_HEADER]: "" },
      { [WARM_UP_HEADER]: crypto.randomUUID() },
      { [WARM_UP_HEADER]: "x".repeat(4096) },
    ];
    for (const headers of attempts) {
      const response = await fetch(`${stack.baseUrl}${WARM_UP_PATH}`, { method: "POST", headers });
      expect(response.status).toBe(404);
      expect(response.headers.get("cache-control")).toBe("no-store");
    }
    expect((await fetch(`${stack.baseUrl}${WARM_UP_PATH}`)).status).toBe(405);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(warmUps()).toBe(before);
  });
});
