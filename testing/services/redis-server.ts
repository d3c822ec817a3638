import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killAndWait, spawnServer } from "./child-process";
import { freePort } from "./free-port";

export interface RedisServer {
  url: string;
  port: number;
  /** false when TEST_REDIS_URL points at a server the tests did not start. */
  owned: boolean;
  /** Kill the server (by pid) and wait for it to exit. Idempotent. */
  stop(): Promise<void>;
  /** Start it again on the same port (after stop()). Idempotent. */
  start(): Promise<void>;
}

/**
 * A throwaway redis-server on a free loopback port, owned by this process:
 * no persistence, its own temp dir, killed by pid. Never the system Redis.
 * Set TEST_REDIS_URL to run against an existing server instead (then stop/start throw).
 */
export async function startRedis(): Promise<RedisServer> {
  const external = process.env.TEST_REDIS_URL;
  if (external) {
    const notOwned = async () => {
      throw new Error(`TEST_REDIS_URL=${external} is a Redis the tests do not own: fault tests (stop/start) need an owned server. Unset TEST_REDIS_URL.`);
    };
    return { url: external, port: Number(new URL(external).port || 6379), owned: false, stop: notOwned, start: notOwned };
  }

  const bin = process.env.REDIS_SERVER_BIN ?? "redis-server";
  const probe = spawnSync(bin, ["--version"], { encoding: "utf8" });
  if (probe.error) {
    throw new Error(
      `Cannot run "${bin}" (${probe.error.message}). Install it (apt-get install -y redis-server) or set REDIS_SERVER_BIN; the tests need a real Redis.`,
    );
  }

  const dir = mkdtempSync(join(tmpdir(), "e2e-redis-"));
  let child: ChildProcess | undefined;
  let port = await freePort();
  // The free port can be taken between freePort() and redis' bind: retry the first start on another port.
  for (let attempt = 1; ; attempt++) {
    try {
      child = await spawnRedis(bin, port, dir);
      break;
    } catch (error) {
      if (attempt >= 3 || !/already in use/i.test(String(error))) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
      port = await freePort();
    }
  }

  const cleanUpOnExit = () => {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", cleanUpOnExit);

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    owned: true,
    async stop() {
      if (!child) return;
      const current = child;
      child = undefined;
      await killAndWait(current);
      rmSync(dir, { recursive: true, force: true });
    },
    async start() {
      if (child) return;
      mkdirSync(dir, { recursive: true });
      child = await spawnRedis(bin, port, dir);
    },
  };
}

function spawnRedis(bin: string, port: number, dir: string): Promise<ChildProcess> {
  return spawnServer(
    bin,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning"],
    {},
    { label: `redis-server on port ${port}`, readiness: "PING", ready: () => answersPing(port), timeoutSeconds: 10 },
  );
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}
