import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

/**
 * The throwaway servers the tests start (redis-server, its cluster nodes, sqld): each is our child, not
 * daemonized, so its pid is known and it cannot outlive a clean shutdown.
 */

export interface ServerSpawn {
  /** Names the server in errors: "redis-server on port 6390". */
  label: string;
  /** What `ready` checks, for the error when it never does: "PING", "/health". */
  readiness: string;
  /** True once the server answers. */
  ready: () => Promise<boolean>;
  timeoutSeconds: number;
}

/** Spawns the server and waits until it is ready; the last 4,000 characters of its output go into the errors. */
export async function spawnServer(bin: string, args: string[], options: SpawnOptions, server: ServerSpawn): Promise<ChildProcess> {
  const child = spawn(bin, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  let exited = false;
  child.once("exit", () => (exited = true));
  child.once("error", (error) => keep(Buffer.from(String(error))));

  const deadline = Date.now() + server.timeoutSeconds * 1000;
  while (!(await server.ready())) {
    if (exited) throw new Error(`${server.label} exited during start-up:\n${output}`);
    if (Date.now() > deadline) {
      await killAndWait(child);
      throw new Error(`${server.label} did not answer ${server.readiness} within ${server.timeoutSeconds} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

/** SIGTERM, SIGKILL after 5 s; resolves once the child has exited. */
export function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
