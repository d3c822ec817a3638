import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killAndWait, spawnServer } from "./child-process";
import { freePort } from "./free-port";

export interface RedisCluster {
  /** One node's URL: a cluster client discovers the others from it. */
  url: string;
  ports: number[];
  /** Kill every node (by pid) and wait for each to exit. Idempotent. */
  stop(): Promise<void>;
  /** Start the nodes again on the same ports; they rejoin with the slot map they kept. Idempotent. */
  start(): Promise<void>;
}

const MASTERS = 3;

/**
 * A real three-master Redis Cluster on free loopback ports, owned by this process: no persistence of data,
 * its own temp dir (each node's nodes-P.conf lives there, so a restart finds the same cluster), every node
 * a child killed by pid. A missing redis-server or redis-cli fails the suite: a cluster test never skips.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  const server = process.env.REDIS_SERVER_BIN ?? "redis-server";
  const cli = process.env.REDIS_CLI_BIN ?? "redis-cli";
  for (const bin of [server, cli]) {
    const probe = spawnSync(bin, ["--version"], { encoding: "utf8" });
    if (probe.error) {
      throw new Error(`Cannot run "${bin}" (${probe.error.message}). Install it (apt-get install -y redis-server); the cluster tests need real Redis.`);
    }
  }

  const dir = mkdtempSync(join(tmpdir(), "e2e-redis-cluster-"));
  const ports: number[] = [];
  while (ports.length < MASTERS) {
    const port = await freePort();
    // A cluster node also listens on port + 10000 (the cluster bus).
    if (port + 10_000 <= 65_535 && !ports.includes(port)) ports.push(port);
  }
  let children: ChildProcess[] = [];
  const cleanUpOnExit = () => {
    for (const child of children) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", cleanUpOnExit);

  try {
    children = await Promise.all(ports.map((port) => spawnNode(server, port, dir)));
    const created = spawnSync(cli, ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.stdout}\n${created.stderr}`);
    await untilClusterOk(ports);
  } catch (error) {
    await Promise.all(children.map(killAndWait));
    children = [];
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    url: `redis://127.0.0.1:${ports[0]}`,
    ports,
    async stop() {
      const current = children;
      children = [];
      await Promise.all(current.map(killAndWait));
    },
    async start() {
      if (children.length) return;
      children = await Promise.all(ports.map((port) => spawnNode(server, port, dir)));
      await untilClusterOk(ports);
    },
  };
}

function spawnNode(bin: string, port: number, dir: string): Promise<ChildProcess> {
  return spawnServer(
    bin,
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      `nodes-${port}.conf`,
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--loglevel",
      "warning",
    ],
    {},
    {
      label: `redis-server (cluster node) on port ${port}`,
      readiness: "PING",
      ready: async () => (await ask(port, "PING")).startsWith("+PONG"),
      timeoutSeconds: 10,
    },
  );
}

/** Every node sees all slots covered (cluster_state:ok): before that, commands answer CLUSTERDOWN. */
async function untilClusterOk(ports: number[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const states = await Promise.all(ports.map((port) => ask(port, "CLUSTER INFO")));
    if (states.every((info) => info.includes("cluster_state:ok"))) return;
    if (Date.now() > deadline) throw new Error(`the Redis Cluster on ${ports.join(", ")} did not reach cluster_state:ok within 20 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One inline command over a raw socket; answers what the server sent ("" when it could not be reached). */
function ask(port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let reply = "";
    const done = () => {
      socket.destroy();
      resolve(reply);
    };
    socket.setTimeout(1_000, done);
    socket.once("error", done);
    socket.once("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      // A bulk reply ($n) is complete once its n bytes and CRLF arrived; a simple reply at its first CRLF.
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      if (bulk ? reply.length >= bulk[0].length + Number(bulk[1]) + 2 : reply.includes("\r\n")) done();
    });
  });
}
