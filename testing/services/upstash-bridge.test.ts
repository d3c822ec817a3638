import { createHash } from "node:crypto";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type RedisServer } from "./redis-server";
import { startUpstashBridge, type UpstashBridge } from "./upstash-bridge";

let server: RedisServer;
let bridge: UpstashBridge;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  bridge = await startUpstashBridge(server.url);
  redis = new Redis({ url: bridge.url, token: bridge.token });
});

afterAll(async () => {
  await bridge?.stop();
  await server?.stop();
});

const raw = (body: unknown, path = "", headers: Record<string, string> = {}) =>
  fetch(`${bridge.url}/${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${bridge.token}`, ...headers },
    body: JSON.stringify(body),
  });

describe("upstash bridge, through @upstash/redis with its defaults (base64, auto-pipelining, deserialization)", () => {
  it("sets and gets strings, and JSON values come back deserialized", async () => {
    expect(await redis.set("greeting", "héllo wörld")).toBe("OK");
    expect(await redis.get("greeting")).toBe("héllo wörld");
    await redis.set("object", { a: 1, list: ["x"] });
    expect(await redis.get("object")).toEqual({ a: 1, list: ["x"] });
    expect(await redis.set("only-new", "v", { nx: true })).toBe("OK");
    expect(await redis.set("only-new", "w", { nx: true })).toBeNull();
  });

  it("returns null for a missing key", async () => {
    expect(await redis.get("no-such-key")).toBeNull();
    expect(await redis.hget("no-such-hash", "f")).toBeNull();
  });

  it("increments counters as numbers", async () => {
    expect(await redis.incr("counter")).toBe(1);
    expect(await redis.incrby("counter", 41)).toBe(42);
  });

  it("writes and reads hashes", async () => {
    expect(await redis.hset("user:1", { email: "a@example.test", attempts: 3 })).toBe(2);
    expect(await redis.hgetall("user:1")).toEqual({ email: "a@example.test", attempts: 3 });
    expect(await redis.hincrby("user:1", "attempts", 1)).toBe(4);
  });

  it("expires keys and reports ttl", async () => {
    await redis.set("temp", "x");
    expect(await redis.expire("temp", 100)).toBe(1);
    const ttl = await redis.ttl("temp");
    expect(ttl).toBeGreaterThan(95);
    expect(ttl).toBeLessThanOrEqual(100);
    await redis.set("with-ex", "y", { ex: 30 });
    expect(await redis.ttl("with-ex")).toBeGreaterThan(25);
    expect(await redis.ttl("no-such-key")).toBe(-2);
  });

  it("runs EVAL with keys and numeric arguments", async () => {
    const script = "redis.call('SET', KEYS[1], ARGV[1]); return {redis.call('GET', KEYS[1]), tonumber(ARGV[2]) + 1, 'OK'}";
    expect(await redis.eval(script, ["lua-key"], ["stored", 41])).toEqual(["stored", 42, "OK"]);
  });

  it("runs a script through EVALSHA, falling back to EVAL on NOSCRIPT, also with a #!lua flags shebang", async () => {
    const script = redis.createScript<number>("#!lua flags=allow-key-locking\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])");
    expect(await script.exec(["script-counter"], ["5"])).toBe(5); // NOSCRIPT, then EVAL
    expect(await script.evalsha(["script-counter"], ["5"])).toBe(10); // now known under the original sha1
    expect(await redis.scriptExists(createHash("sha1").update(script.script).digest("hex"))).toEqual([1]);
    const loaded = await redis.scriptLoad("#!lua flags=no-writes\nreturn 'loaded'");
    expect(await redis.evalsha(loaded, [], [])).toBe("loaded");
  });

  it("executes pipelines and transactions in order", async () => {
    const results = await redis.pipeline().set("p", 1).incr("p").get("p").del("p").exec();
    expect(results).toEqual(["OK", 2, 2, 1]);
    const tx = await redis.multi().set("t", "a").append("t", "b").get("t").exec();
    expect(tx).toEqual(["OK", 2, "ab"]);
  });

  it("reports Redis errors with Redis' own text", async () => {
    await redis.set("not-a-number", "abc");
    await expect(redis.incr("not-a-number")).rejects.toThrow(/ERR value is not an integer/);
    await expect(redis.hget("not-a-number", "f")).rejects.toThrow(/WRONGTYPE/);
    const tx = redis.multi().set("tx-key", "x").incr("tx-key");
    await expect(tx.exec()).rejects.toThrow(/not an integer/);
    expect(await redis.get("tx-key")).toBe("x");
  });
});

describe("upstash bridge, protocol details", () => {
  it("works without base64 encoding and without deserialization", async () => {
    const plain = new Redis({ url: bridge.url, token: bridge.token, responseEncoding: false, automaticDeserialization: false, enableAutoPipelining: false });
    await plain.set("plain", '{"json":true}');
    expect(await plain.get("plain")).toBe('{"json":true}');
    expect(await plain.lpush("list", "a", "b")).toBe(2);
    expect(await plain.lrange("list", 0, -1)).toEqual(["b", "a"]);
  });

  it("answers single commands with {result}, base64-encoding strings but not OK, and 400 {error}", async () => {
    const b64 = { "upstash-encoding": "base64" };
    expect(await (await raw(["SET", "k", "value"], "", b64)).json()).toEqual({ result: "OK" });
    expect(await (await raw(["GET", "k"], "", b64)).json()).toEqual({ result: Buffer.from("value").toString("base64") });
    expect(await (await raw(["EVAL", "return {'OK', 7}", 0], "", b64)).json()).toEqual({ result: [Buffer.from("OK").toString("base64"), 7] });
    expect(await (await raw(["GET", "missing"], "", b64)).json()).toEqual({ result: null });
    expect(await (await raw(["EXPIRE", "k", 10])).json()).toEqual({ result: 1 });
    expect(await (await raw(["ECHO", "héllo"], "", b64)).json()).toEqual({ result: Buffer.from("héllo").toString("base64") });
    const error = await raw(["NOSUCHCOMMAND"]);
    expect(error.status).toBe(400);
    expect((await error.json()).error).toMatch(/^ERR unknown command/);
  });

  it("keeps going after a failed command in a pipeline", async () => {
    const res = await raw(
      [
        ["SET", "pk", "v"],
        ["INCR", "pk"],
        ["GET", "pk"],
      ],
      "pipeline",
    );
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body[0]).toEqual({ result: "OK" });
    expect(body[1].error).toMatch(/not an integer/);
    expect(body[2]).toEqual({ result: "v" });
  });

  it("refuses requests without the bearer token", async () => {
    const res = await fetch(bridge.url, { method: "POST", body: JSON.stringify(["PING"]) });
    expect(res.status).toBe(401);
    const wrong = await fetch(bridge.url, { method: "POST", headers: { authorization: "Bearer nope" }, body: '["PING"]' });
    expect(wrong.status).toBe(401);
  });

  it("answers 503 while Redis is down and recovers when it is back on the same port", async () => {
    await redis.set("survives", "no");
    await server.stop();
    const down = await raw(["GET", "survives"]);
    expect(down.status).toBe(503);
    await server.start();
    expect(await redis.get("survives")).toBeNull(); // a fresh, empty server
    expect(await redis.set("survives", "yes")).toBe("OK");
  });
});

describe("upstash bridge with @upstash/ratelimit", () => {
  it("runs ratelimit's Lua scripts (they carry a #!lua flags=allow-key-locking shebang)", async () => {
    const { Ratelimit } = await import("@upstash/ratelimit");
    for (const limiter of [Ratelimit.slidingWindow(2, "10 s"), Ratelimit.fixedWindow(2, "10 s"), Ratelimit.tokenBucket(2, "10 s", 2)]) {
      const ratelimit = new Ratelimit({ redis, limiter, prefix: `rl:${Math.random()}` });
      const results = [];
      for (let i = 0; i < 3; i++) results.push((await ratelimit.limit("user@example.test")).success);
      expect(results).toEqual([true, true, false]);
    }
  });
});
