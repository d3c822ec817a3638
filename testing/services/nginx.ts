import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port";

export interface ReverseProxy {
  /** The listener that overwrites X-Forwarded-For with the client's address (the deployment to copy). */
  url: string;
  /** A second listener that appends to whatever X-Forwarded-For the client sent ($proxy_add_x_forwarded_for). */
  appendingUrl: string;
  pid: number;
  /** SIGTERM by pid (SIGKILL after 5 s), then the temp dir goes. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Debian's nginx in front of app instances on loopback, from a config generated into a temp dir and run as
 * our child (`nginx -p DIR -c nginx.conf -g 'daemon off;'`): round robin over `upstreams` with one worker,
 * so consecutive requests alternate instances. Each response names the instance that answered it
 * (X-Upstream), so a test can see the spread. A missing nginx fails the suite (apt-get install -y nginx).
 */
export async function startNginx(upstreams: string[]): Promise<ReverseProxy> {
  const bin = process.env.NGINX_BIN ?? (existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx");
  const probe = spawnSync(bin, ["-v"], { encoding: "utf8" });
  if (probe.error) throw new Error(`Cannot run "${bin}" (${probe.error.message}). Install it (apt-get install -y nginx); the proxy tests need it.`);

  const dir = mkdtempSync(join(tmpdir(), "e2e-nginx-"));
  mkdirSync(join(dir, "logs"));
  const [port, appendingPort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, "nginx.conf"), config(dir, port, appendingPort, upstreams));

  const child: ChildProcess = spawn(bin, ["-p", dir, "-c", "nginx.conf", "-g", "daemon off;"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const deadline = Date.now() + 10_000;
  while (!((await listening(port)) && (await listening(appendingPort)))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      const log = existsSync(join(dir, "logs/error.log")) ? readFileSync(join(dir, "logs/error.log"), "utf8") : "";
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx did not start on ${port} and ${appendingPort}:\n${output}\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    appendingUrl: `http://127.0.0.1:${appendingPort}`,
    pid: child.pid!,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        process.off("exit", killOnExit);
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
        child.once("exit", () => {
          clearTimeout(force);
          done();
        });
        child.kill("SIGTERM");
      })),
  };
}

function config(dir: string, port: number, appendingPort: number, upstreams: string[]): string {
  const proxied = (forwardedFor: string) => `
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For ${forwardedFor};
      proxy_set_header X-Forwarded-Proto $scheme;
      add_header X-Upstream $upstream_addr always;`;
  return `
worker_processes 1;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "logs/error.log")} warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${join(dir, "client_body")};
  proxy_temp_path ${join(dir, "proxy")};
  fastcgi_temp_path ${join(dir, "fastcgi")};
  uwsgi_temp_path ${join(dir, "uwsgi")};
  scgi_temp_path ${join(dir, "scgi")};
  upstream app {
${upstreams.map((u) => `    server ${u};`).join("\n")}
    keepalive 8;
  }
  server {
    listen 127.0.0.1:${port};
    location / {${proxied("$remote_addr")}
    }
  }
  server {
    listen 127.0.0.1:${appendingPort};
    location / {${proxied("$proxy_add_x_forwarded_for")}
    }
  }
}
`;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
