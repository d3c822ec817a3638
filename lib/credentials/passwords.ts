import "server-only";
import { hash, verify } from "@node-rs/argon2";
import { getConfig } from "../platform/config";
import { ARGON2ID } from "./argon2-parameters";

/** Too many password hashes are already waiting: the request is turned away at once (503 + Retry-After). */
export class PasswordQueueFullError extends Error {
  readonly retryAfterSeconds = 1;
  constructor() {
    super("Too many password hashes are waiting");
    this.name = "PasswordQueueFullError";
  }
}

/** The error itself, or as Auth.js delivers one thrown in authorize() (a CallbackRouteError with it as `cause.err`). */
export function passwordQueueFull(error: unknown): PasswordQueueFullError | undefined {
  const cause = (error as { cause?: { err?: unknown } } | undefined)?.cause?.err;
  if (error instanceof PasswordQueueFullError) return error;
  return cause instanceof PasswordQueueFullError ? cause : undefined;
}

/**
 * Each hash in flight holds 19 MiB and a core: more in flight than cores only adds memory and contention
 * (measured: 2 in flight on 2 cores hash ~30% faster than 4). The rest wait their turn, but only so many:
 * past `maxWaiting` a burst would make every login slow instead of turning the excess away.
 */
export function createHashQueue({ maxInFlight, maxWaiting }: { maxInFlight: number; maxWaiting: number }) {
  let inFlight = 0;
  const waiting: Array<() => void> = [];
  return async function bounded<T>(work: () => Promise<T>): Promise<T> {
    if (inFlight < maxInFlight) inFlight += 1;
    else if (waiting.length >= maxWaiting) throw new PasswordQueueFullError();
    // Woken with the slot of the job that finished, still counted: no newcomer can take it meanwhile.
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else inFlight -= 1;
    }
  };
}

let queue: ReturnType<typeof createHashQueue> | undefined;
const bounded = <T>(work: () => Promise<T>): Promise<T> => (queue ??= createHashQueue(getConfig().passwordHashing))(work);

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
  // A refusal (queue full) must not be kept as the dummy hash for good.
  dummyHash ??= hashPassword("not a real password, only here to spend time").catch((error: unknown) => {
    dummyHash = undefined;
    throw error;
  });
  await verifyPassword(await dummyHash, password);
}
