import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { parseConfig } from "@/lib/platform/config";
import { createHashQueue, PasswordQueueFullError, passwordQueueFull } from "@/lib/credentials/passwords";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("password hash queue", () => {
  it("runs maxInFlight at once, lets maxWaiting wait, and refuses the next at once with PasswordQueueFullError", async () => {
    const run = createHashQueue({ maxInFlight: 1, maxWaiting: 2 });
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const jobs = gates.map((gate, i) =>
      run(async () => {
        started.push(i);
        await gate.promise;
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0]);

    const refused = await run(async () => "never").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PasswordQueueFullError);
    expect((refused as PasswordQueueFullError).retryAfterSeconds).toBe(1);

    gates[0]!.resolve();
    expect(await jobs[0]).toBe(0);
    // A waiting place is free again: a newcomer queues behind the two already waiting.
    const late = run(async () => "late");
    gates[1]!.resolve();
    gates[2]!.resolve();
    expect(await Promise.all([...jobs.slice(1), late])).toEqual([1, 2, "late"]);
    expect(started).toEqual([0, 1, 2]);
  });

  it("a refused job never ran and left no slot taken: the queue works as before afterwards", async () => {
    const run = createHashQueue({ maxInFlight: 1, maxWaiting: 0 });
    const gate = deferred();
    const first = run(() => gate.promise);
    let ran = false;
    await expect(
      run(async () => {
        ran = true;
      }),
    ).rejects.toBeInstanceOf(PasswordQueueFullError);
    expect(ran).toBe(false);
    gate.resolve();
    await first;
    expect(await run(async () => "next")).toBe("next");
  });

  it("passwordQueueFull finds the error thrown directly and as Auth.js wraps it (cause.err)", () => {
    const error = new PasswordQueueFullError();
    expect(passwordQueueFull(error)).toBe(error);
    expect(passwordQueueFull(Object.assign(new Error("CallbackRouteError"), { cause: { err: error } }))).toBe(error);
    expect(passwordQueueFull(new Error("other"))).toBeUndefined();
    expect(passwordQueueFull(undefined)).toBeUndefined();
  });
});

describe("password hash queue configuration", () => {
  it("defaults to one hash in flight per core and as many waiting as the cores finish within PASSWORD_HASH_WAIT_MS (1 s)", () => {
    const cores = availableParallelism();
    expect(parseConfig({ NODE_ENV: "test" }).passwordHashing).toEqual({ maxInFlight: cores, maxWaiting: cores * 40 });
    expect(parseConfig({ NODE_ENV: "test", PASSWORD_HASH_WAIT_MS: "250" }).passwordHashing.maxWaiting).toBe(cores * 10);
  });

  it("PASSWORD_HASH_QUEUE_LIMIT sets the waiting places outright (0 allowed); a negative or fractional one is refused", () => {
    expect(parseConfig({ NODE_ENV: "test", PASSWORD_HASH_QUEUE_LIMIT: "3" }).passwordHashing.maxWaiting).toBe(3);
    expect(parseConfig({ NODE_ENV: "test", PASSWORD_HASH_QUEUE_LIMIT: "0" }).passwordHashing.maxWaiting).toBe(0);
    expect(() => parseConfig({ NODE_ENV: "test", PASSWORD_HASH_QUEUE_LIMIT: "-1" })).toThrow(/PASSWORD_HASH_QUEUE_LIMIT/);
    expect(() => parseConfig({ NODE_ENV: "test", PASSWORD_HASH_QUEUE_LIMIT: "1.5" })).toThrow(/PASSWORD_HASH_QUEUE_LIMIT/);
  });
});
