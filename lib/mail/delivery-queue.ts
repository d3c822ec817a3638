import "server-only";
import { randomUUID } from "node:crypto";
import { logAuthEvent } from "../platform/log";
import { seal, unseal } from "../credentials/sealed";
import type { CodeStore, DeliveryJob, LimitRule } from "../store/code-store";
import { MailDeliveryError, type Mailer, type MailMessage, type MailRefusal } from "./mailer";

/**
 * The delivery queue: requests answer once their mail is queued, and the mail goes out from here, paced to
 * the provider's rate across every instance (the queue and its pace live in the code store), retried on a
 * rate limit or a provider outage within the message's lifetime, and never retried when the provider
 * refuses it for good (a domain not verified, an invalid message).
 *
 * A job holds its whole message sealed (lib/credentials/sealed.ts, the job's own key as context): the store never sees
 * a code in clear. Each address and purpose has a delivery state ("sending", "sent", "failed") that the
 * verify page and GET /api/delivery show.
 */

export type DeliveryState = "sending" | "sent" | "failed";

/** The provider's latest refusal, kept for `npm run doctor` (no address, no message). */
export interface RecordedRefusal extends MailRefusal {
  at: number;
  kind: string;
}

export interface EnqueueInput {
  /** What is sent (a code purpose or a notice kind), for the logs. */
  kind: string;
  /** Absent for a decoy: it goes through the queue and its states like a message, and sends nothing. */
  message?: MailMessage;
  /** Where this delivery's state is kept (deliveryStateKey); none for mail nobody watches. */
  stateKey?: string;
  /** How long the message is worth sending (a code's remaining life). */
  lifetimeMs: number;
  /** Counters cleared when the message cannot be sent, so the person need not wait out a cooldown to try again. */
  resetOnFailure?: LimitRule[];
}

interface JobBody {
  kind: string;
  message?: MailMessage;
  stateKey?: string;
  stateTtlMs: number;
  enqueuedAt: number;
  deadline: number;
  resetOnFailure?: LimitRule[];
}

export interface DeliveryQueueDependencies {
  store: CodeStore;
  mailer: Mailer;
  /** Seals job bodies (the code payload key). */
  sealKey: Buffer;
  /** Messages a second the provider accepts from this sender (all instances together); 0 for no pacing. */
  ratePerSecond: number;
  /** Runs the drain after the response (Next's after(), which keeps a serverless function alive for it). */
  defer: (task: () => Promise<unknown>) => void;
  /** Wall-clock milliseconds; every instance's pace is compared with it. */
  clock?: () => number;
}

export const deliveryStateKey = (emailId: string, purpose: string) => `mail:delivery:${emailId}:${purpose}`;
const LAST_REFUSAL_KEY = "mail:last-refusal";
const LAST_REFUSAL_TTL_MS = 7 * 24 * 3600 * 1000;
/** Longer than a send may take (Resend's 10 s timeout, SMTP's 15 s socket timeout): an unsettled job after this is sent again. */
const LEASE_MS = 30_000;
const MAX_IN_FLIGHT = 4;
/** The longest one sleep lasts before the queue is looked at again (a job queued by another instance may be due). */
const MAX_SLEEP_MS = 2_000;
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;
/**
 * A tenth under the provider's rate: the gap between two requests also varies on the way there (instances answer
 * at different speeds), and every 429 costs everyone a retry-after pause.
 */
const PACE_MARGIN = 1.1;
const FAILED_STATE_MIN_TTL_MS = 10 * 60_000;
const MAX_DECOY_MS = 5_000;

let sequence = 0;
/** Jobs due at the same millisecond go in the order this process queued them: the queue breaks ties by id. */
const jobId = (now: number) => `${String(Math.floor(now)).padStart(15, "0")}.${String(sequence++ % 1e9).padStart(9, "0")}.${randomUUID()}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const jobContext = (id: string) => `delivery-job:${id}`;

export function createDeliveryQueue({ store, mailer, sealKey, ratePerSecond, defer, clock = Date.now }: DeliveryQueueDependencies) {
  const intervalMs = ratePerSecond > 0 ? (1000 / ratePerSecond) * PACE_MARGIN : 0;
  let running: Promise<void> | undefined;
  let wanted = false;
  /** A moving average of how long the provider takes to accept a message. */
  let typicalSendMs = 0;

  async function enqueue(input: EnqueueInput): Promise<DeliveryState> {
    const now = clock();
    const id = jobId(now);
    const body: JobBody = {
      kind: input.kind,
      message: input.message,
      stateKey: input.stateKey,
      stateTtlMs: input.lifetimeMs,
      enqueuedAt: now,
      deadline: now + input.lifetimeMs,
      resetOnFailure: input.resetOnFailure,
    };
    if (input.stateKey) await store.writeValue(input.stateKey, "sending", input.lifetimeMs);
    const queued = await store.enqueueDelivery({ id, body: seal(sealKey, jobContext(id), JSON.stringify(body)), dueAt: now, deadline: body.deadline });
    if (!queued) {
      logAuthEvent("code_send_failed", { kind: input.kind, cause: "queue_full" });
      await finish(body, "failed");
      return "failed";
    }
    kick();
    return "sending";
  }

  /** Starts draining in this process unless it already is; the drain runs after the response. */
  function kick(): void {
    wanted = true;
    running ??= drain();
    const current = running;
    defer(() => current);
  }

  async function drain(): Promise<void> {
    try {
      while (wanted) {
        wanted = false;
        await drainUntilEmpty();
      }
    } catch (error) {
      // The store is out: the jobs wait there, and the next request that queues or polls starts again.
      logAuthEvent("store_unavailable", { during: "mail_delivery", cause: error instanceof Error ? error.name : "unknown" });
    } finally {
      running = undefined;
    }
  }

  async function drainUntilEmpty(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    const track = (work: Promise<void>) => {
      const tracked = work.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    };
    try {
      for (;;) {
        if (inFlight.size >= MAX_IN_FLIGHT) {
          await Promise.race(inFlight);
          continue;
        }
        const claim = await store.claimDelivery({ now: clock(), leaseMs: LEASE_MS, intervalMs });
        if (claim.status === "empty") {
          if (inFlight.size === 0) return;
          await Promise.race(inFlight);
        } else if (claim.status === "wait") {
          await Promise.race([sleep(Math.min(claim.waitMs, MAX_SLEEP_MS)), ...inFlight]);
        } else if (claim.status === "expired") {
          const body = open(claim.job);
          if (body) {
            logAuthEvent("code_send_failed", { kind: body.kind, cause: "expired_in_queue", attempts: claim.job.attempts });
            await finish(body, "failed");
          }
        } else {
          track(attempt(claim.job));
        }
      }
    } finally {
      await Promise.allSettled(inFlight);
    }
  }

  function open(job: DeliveryJob): JobBody | undefined {
    try {
      return JSON.parse(unseal(sealKey, jobContext(job.id), job.body)) as JobBody;
    } catch {
      return undefined; // sealed under another key (AUTH_SECRET rotated) or damaged: nothing to send
    }
  }

  async function attempt(job: DeliveryJob): Promise<void> {
    const body = open(job);
    if (!body) return store.settleDelivery({ id: job.id, done: true });
    if (!body.message) {
      // As long as a real send takes lately, so the state does not turn to "sent" sooner for an address without an account.
      await sleep(typicalSendMs);
      await store.settleDelivery({ id: job.id, done: true });
      return finish(body, "sent");
    }
    const started = performance.now();
    try {
      await mailer.send(body.message);
      const took = performance.now() - started;
      typicalSendMs = Math.min(MAX_DECOY_MS, typicalSendMs === 0 ? took : 0.8 * typicalSendMs + 0.2 * took);
    } catch (error) {
      const refusal: MailRefusal =
        error instanceof MailDeliveryError ? error.refusal : { provider: "smtp", name: error instanceof Error ? error.name : "unknown", retryable: true };
      const cause = error instanceof MailDeliveryError ? error.describe() : refusal.name;
      const now = clock();
      const backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (job.attempts - 1));
      // A rate limit holds every job back and keeps this one first in line; an outage sends this one to the back for a while.
      const retryAt = refusal.retryAfterMs !== undefined ? body.enqueuedAt : now + backoff;
      const pauseUntil = refusal.retryAfterMs !== undefined ? now + refusal.retryAfterMs : undefined;
      if (refusal.retryable && Math.max(retryAt, pauseUntil ?? 0) < body.deadline) {
        logAuthEvent("code_send_deferred", { kind: body.kind, cause, attempts: job.attempts });
        return store.settleDelivery({ id: job.id, done: false, retryAt, pauseUntil });
      }
      logAuthEvent("code_send_failed", { kind: body.kind, cause, attempts: job.attempts });
      await store.writeValue(LAST_REFUSAL_KEY, JSON.stringify({ ...refusal, at: clock(), kind: body.kind } satisfies RecordedRefusal), LAST_REFUSAL_TTL_MS);
      await store.settleDelivery({ id: job.id, done: true });
      if (body.resetOnFailure?.length) await store.limits("reset", body.resetOnFailure);
      return finish(body, "failed");
    }
    await store.settleDelivery({ id: job.id, done: true });
    logAuthEvent("code_sent", { kind: body.kind, attempts: job.attempts });
    await finish(body, "sent");
  }

  async function finish(body: JobBody, state: DeliveryState): Promise<void> {
    // A failure stays readable a while even when the message's life is over, so the page can say so.
    const ttl = Math.max(body.deadline - clock(), state === "failed" ? FAILED_STATE_MIN_TTL_MS : 0);
    if (body.stateKey && ttl > 0) await store.writeValue(body.stateKey, state, ttl);
  }

  async function state(stateKey: string): Promise<DeliveryState | undefined> {
    const [value] = await store.readValues([stateKey]);
    return value === "sending" || value === "sent" || value === "failed" ? value : undefined;
  }

  return {
    enqueue,
    state,
    kick,
    /** Resolves when this process has nothing left to send (tests, scripts). */
    idle: async () => {
      while (running) await running;
    },
  };
}

export type DeliveryQueue = ReturnType<typeof createDeliveryQueue>;

/** The provider's latest refusal, if one was recorded within a week. */
export async function lastRefusal(store: CodeStore): Promise<RecordedRefusal | undefined> {
  const [value] = await store.readValues([LAST_REFUSAL_KEY]);
  if (!value) return undefined;
  try {
    return JSON.parse(value) as RecordedRefusal;
  } catch {
    return undefined;
  }
}
