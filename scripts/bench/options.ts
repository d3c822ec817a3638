/** The bench's command line (the comment at the top of main.ts lists it; --help prints that). */
import { join } from "node:path";
import { headerComment, parseCommandLine, type CommandLineOptions } from "../support/args.mjs";

export interface PhaseOptions {
  c: number[];
  n: number[];
  warmup: number;
}
export interface Options {
  quick: boolean;
  profile: boolean;
  build: boolean;
  /** Run the server from a copy of .next (default; --no-snapshot runs it from the project's .next). */
  snapshot: boolean;
  only: Set<string> | null;
  flow: PhaseOptions;
  verify: PhaseOptions;
  login: PhaseOptions;
  page: PhaseOptions;
  /** The framework floor (scripts/bench/floor.ts): the first concurrency and count are used. */
  floor: PhaseOptions;
  scale: number[];
  scaleN: number;
  scaleLoginC: number[];
  ceilingN: number;
  /** The soak (scripts/bench/phases/soak.ts): how long, and requests a second. */
  soakMinutes: number;
  soakRate: number;
  /** Before starting, wait up to this many seconds for the machine to be idle (shared machines). */
  waitQuietSeconds: number;
  /** Extra environment for the server (experiments such as UV_THREADPOOL_SIZE=2). */
  serverEnv: Record<string, string>;
}

const FLAGS: CommandLineOptions = {
  quick: { type: "boolean" },
  profile: { type: "boolean" },
  build: { type: "boolean" },
  "no-snapshot": { type: "boolean" },
  help: { type: "boolean" },
  only: { type: "string" },
  scale: { type: "string" },
  "scale-n": { type: "string" },
  "scale-login-c": { type: "string" },
  "ceiling-n": { type: "string" },
  "soak-minutes": { type: "string" },
  "soak-rate": { type: "string" },
  env: { type: "string" },
  "wait-quiet": { type: "string", bare: "true" },
};
for (const kind of ["flow", "verify", "login", "page", "floor"]) for (const s of ["c", "n", "warmup"]) FLAGS[`${kind}-${s}`] = { type: "string" };

export function parseOptions(argv: string[]): Options {
  // Every flag as text ("true" for a switch), as the rules below read them.
  const flags = new Map(Object.entries(parseCommandLine(FLAGS, { args: argv }).values).map(([key, value]) => [key, String(value)]));
  if (flags.has("help")) {
    console.log(headerComment(join(__dirname, "main.ts")));
    process.exit(0);
  }
  const quick = flags.get("quick") === "true";
  const list = (key: string, fallback: number[]) =>
    flags.has(key)
      ? flags
          .get(key)!
          .split(",")
          .map((v) => {
            const n = Number(v);
            if (!Number.isInteger(n) || n <= 0) throw new Error(`--${key}: ${v} is not a positive integer`);
            return n;
          })
      : fallback;
  const phase = (kind: string, c: number[], n: number[], nQuick: number[], warmup: number, warmupQuick: number): PhaseOptions => ({
    c: list(`${kind}-c`, c),
    n: list(`${kind}-n`, quick ? nQuick : n),
    warmup: list(`${kind}-warmup`, [quick ? warmupQuick : warmup])[0]!,
  });
  const only = flags.get("only");
  for (const group of only?.split(",") ?? []) {
    if (!["ceiling", "flow", "verify", "login", "page", "scale", "floor", "cold", "soak"].includes(group))
      throw new Error(`--only: unknown phase group ${group}`);
  }
  return {
    quick,
    profile: flags.get("profile") === "true",
    build: flags.get("build") === "true",
    snapshot: !flags.has("no-snapshot"),
    only: only ? new Set(only.split(",")) : null,
    flow: phase("flow", [1, 8], [100, 400], [25, 120], 10, 5),
    verify: phase("verify", [16], [800], [300], 50, 30),
    login: phase("login", [1, 16], [100, 400], [30, 150], 10, 5),
    page: phase("page", [16], [3000], [800], 200, 100),
    floor: phase("floor", [16], [3000], [800], 200, 100),
    scale: list("scale", [1_000, 10_000, 100_000]),
    scaleN: list("scale-n", [quick ? 150 : 400])[0]!,
    scaleLoginC: list("scale-login-c", [1, 16]),
    ceilingN: list("ceiling-n", [quick ? 10 : 30])[0]!,
    soakMinutes: list("soak-minutes", [quick ? 1 : 10])[0]!,
    // 10 requests a second of the soak's mix (two Argon2id hashes and three verifies in every thirteen requests) cost the
    // server about 0.1 of a core at the per-request CPU of the quiet run in the README. On a 2-core machine shared with
    // builds and tests the same traffic took 1.2 to 1.7 cores, yet never had more than 11 requests in flight: still a
    // steady load, not a queue, so the latency measured is the server's own. 20 a second there made 23 in flight.
    soakRate: list("soak-rate", [10])[0]!,
    waitQuietSeconds: flags.has("wait-quiet") ? (flags.get("wait-quiet") === "true" ? 600 : Number(flags.get("wait-quiet"))) : 0,
    serverEnv: Object.fromEntries(
      (flags.get("env") ?? "")
        .split(",")
        .filter(Boolean)
        .map((pair) => {
          const eq = pair.indexOf("=");
          if (eq <= 0) throw new Error(`--env: ${pair} is not NAME=value`);
          return [pair.slice(0, eq), pair.slice(eq + 1)];
        }),
    ),
  };
}
