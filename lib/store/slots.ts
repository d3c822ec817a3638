import "server-only";
import type { LimitMode, LimitOutcome, LimitRule } from "./code-store";

/**
 * Redis Cluster runs a script only when all its keys hash to one slot. Keys hash by their hash tag (the
 * first non-empty {...}), or whole when they have none: keys of one address ({id}) share a slot; a
 * client IP's counters, the product-wide guessing counter and an account's records ({account:...}) each
 * hash elsewhere. So on a cluster an operation's limits are split per slot, each part one atomic script.
 *
 * Why limits split this way still hold (the argument the cluster adapter relies on):
 * - Each part is hit (checked and counted) by one atomic script, so no counter ever passes its limit.
 * - A part outside the operation's own slot is hit BEFORE the operation runs, as a reservation, and taken
 *   back (refunded) only once the operation is known not to count on it: a right code, a send the
 *   operation's own limits refused. So every attempt that could count holds its unit first, and any
 *   interleaving of attempts counts at most `limit` on a counter, exactly as one script would.
 * - The price is only ever a refusal too many: while an attempt holds a unit it will give back, a
 *   concurrent one near the limit may be refused for the length of that round trip. It never lets one more in.
 * - A refund takes back one unit (never below zero). If the window ends between the hit and the refund,
 *   the refund lands on the next window's counter: one attempt more in that window, at most one per such
 *   race, which needs a window to end within one round trip.
 * - A failure between the hit and the refund (an outage, a crash) leaves the unit counted: fail closed.
 */

/** The part of a key Redis Cluster hashes: keys with the same part share a slot. */
export function slotPart(key: string): string {
  const open = key.indexOf("{");
  if (open === -1) return key;
  const close = key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/** Rules grouped so that each group's keys share a slot (the order of first appearance kept). */
export function groupBySlot(rules: LimitRule[]): LimitRule[][] {
  const groups = new Map<string, LimitRule[]>();
  for (const rule of rules) {
    const part = slotPart(rule.key);
    const group = groups.get(part);
    if (group) group.push(rule);
    else groups.set(part, [rule]);
  }
  return [...groups.values()];
}

/** The rules in `key`'s own slot (they can go into its script) and the others, grouped by slot. */
export function splitAround(key: string, rules: LimitRule[]): { home: LimitRule[]; away: LimitRule[][] } {
  const part = slotPart(key);
  return { home: rules.filter((r) => slotPart(r.key) === part), away: groupBySlot(rules.filter((r) => slotPart(r.key) !== part)) };
}

/** Runs one limits script on rules of a single slot. */
export type SlotLimits = (mode: LimitMode, rules: LimitRule[]) => Promise<LimitOutcome>;

export type Hold = { allowed: true; release(): Promise<void> } | { allowed: false; retryAfterMs: number };

/**
 * Hits every group (in parallel, each atomically). All allowed: the units are held until `release`
 * gives them back. Any refused: the groups that did count are refunded at once, and the answer is the
 * longest wait among the refusals (plus whatever `alsoCheck`, read without counting, would wait).
 */
export async function holdAcross(groups: LimitRule[][], limits: SlotLimits, alsoCheck: LimitRule[] = []): Promise<Hold> {
  const outcomes = await Promise.all(groups.map((group) => limits("hit", group)));
  const held = groups.filter((_, i) => outcomes[i]!.allowed);
  const release = async () => {
    await Promise.all(held.map((group) => limits("refund", group)));
  };
  if (held.length === groups.length) return { allowed: true, release };
  const [, checked] = await Promise.all([release(), alsoCheck.length ? limits("check", alsoCheck) : { allowed: true as const }]);
  return { allowed: false, retryAfterMs: longestWait([...outcomes, checked]) };
}

/** A limits call across slots, with the meaning `limits()` has on one server. */
export async function limitsAcross(mode: LimitMode, rules: LimitRule[], limits: SlotLimits): Promise<LimitOutcome> {
  const groups = groupBySlot(rules);
  if (groups.length <= 1) return limits(mode, rules);
  if (mode === "hit") {
    const hold = await holdAcross(groups, limits);
    return hold.allowed ? { allowed: true } : hold;
  }
  // check, record, reset and refund act on each counter on its own: per slot is the same thing.
  const outcomes = await Promise.all(groups.map((group) => limits(mode, group)));
  return outcomes.every((o) => o.allowed) ? { allowed: true } : { allowed: false, retryAfterMs: longestWait(outcomes) };
}

function longestWait(outcomes: LimitOutcome[]): number {
  return Math.max(0, ...outcomes.map((o) => (o.allowed ? 0 : o.retryAfterMs)));
}
