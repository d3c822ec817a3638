import { availableParallelism } from "node:os";
import { hash, verify } from "@node-rs/argon2";

/** OWASP's Argon2id parameters: 19 MiB, 2 passes, 1 lane. */
const ARGON2ID = { algorithm: 2 /* Algorithm.Argon2id, a const enum isolatedModules cannot read */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

// Each hash in flight holds 19 MiB and a core: more in flight than cores only adds memory and contention
// (measured: 2 in flight on 2 cores hash ~30% faster than 4). The rest wait their turn here.
const MAX_IN_FLIGHT = Math.max(1, availableParallelism());
let inFlight = 0;
const waiting: Array<() => void> = [];

async function bounded<T>(work: () => Promise<T>): Promise<T> {
  if (inFlight < MAX_IN_FLIGHT) inFlight += 1;
  // Woken with the slot of the job that finished, still counted: no newcomer can take it meanwhile.
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else inFlight -= 1;
  }
}

/** Runs on libuv's thread pool, off the event loop. */
export function hashPassword(password: string): Promise<string> {
  return bounded(() => hash(password, ARGON2ID));
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return bounded(() => verify(passwordHash, password).catch(() => false));
}

let dummyHash: Promise<string> | undefined;

/** Spends one verify's worth of time when there is no account, so timing does not reveal which emails exist. */
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword("not a real password, only here to spend time");
  await verifyPassword(await dummyHash, password);
}
