import "server-only";
import type { ClaimDeliveryOutcome, ConsumeCodeOutcome, SettleDeliveryInput, IssueCodeOutcome, LimitMode, LimitOutcome, LimitRule } from "./code-store";

/**
 * The Lua scripts behind the Redis adapters (TCP and Upstash REST): each operation is one script, so one
 * round trip and atomic. lib/store/memory.ts implements the same state machine in TypeScript; the
 * contract tests run one suite against all three stores.
 *
 * Code record (a hash): h1/e1 current code hash and expiry, h2/e2 the previous code kept beside it,
 * a wrong attempts (shared by both), f first issue of the series, s state (live | used | void),
 * p1/p2 the pending payload mailed with each code (a code applies only the details it was sent with); once
 * used, the hashes stay so that the record's own codes (and only they) hear "used". Limit counters: plain keys counting within a window set on their first hit.
 */

// same(): no early exit on the first differing byte (plain arithmetic, so no reliance on the bit library).
const LIBRARY = `
local function same(x, y)
  if #x ~= #y then return false end
  local d = 0
  for i = 1, #x do d = d + math.abs(string.byte(x, i) - string.byte(y, i)) end
  return d == 0
end
local function over(k0, a0)
  local retry = 0
  for j = 0, #KEYS - k0 do
    local count = tonumber(redis.call('GET', KEYS[k0 + j]) or '0')
    if count >= tonumber(ARGV[a0 + 2 * j]) then
      local ttl = redis.call('PTTL', KEYS[k0 + j])
      if ttl < 0 then ttl = tonumber(ARGV[a0 + 2 * j + 1]) end
      if ttl > retry then retry = ttl end
    end
  end
  return retry
end
local function count(k0, a0)
  for j = 0, #KEYS - k0 do
    -- A window starts with its first hit; a counter refunded to zero keeps the window it has.
    if redis.call('INCR', KEYS[k0 + j]) == 1 and redis.call('PTTL', KEYS[k0 + j]) < 0 then redis.call('PEXPIRE', KEYS[k0 + j], ARGV[a0 + 2 * j + 1]) end
  end
end
`;

/** KEYS: limit keys. ARGV: mode, then (limit, windowMs) per key. -> {allowed 1|0, retryAfterMs} */
export const LIMITS_SCRIPT = `${LIBRARY}
local mode = ARGV[1]
if mode == 'reset' then
  if #KEYS > 0 then redis.call('DEL', unpack(KEYS)) end
  return {1, 0}
end
if mode == 'record' then count(1, 2) return {1, 0} end
if mode == 'refund' then
  for j = 1, #KEYS do
    if tonumber(redis.call('GET', KEYS[j]) or '0') > 0 then redis.call('DECR', KEYS[j]) end
  end
  return {1, 0}
end
local retry = over(1, 2)
if retry > 0 then return {0, retry} end
if mode == 'hit' then count(1, 2) end
return {1, 0}
`;

/**
 * KEYS: record, then send-limit keys. ARGV: codeHash, payload, now, ttlMs, maxLifetimeMs, retentionMs,
 * then (limit, windowMs) per limit key. -> {'issued', expiresAt} | {'limited', retryAfterMs}
 */
export const ISSUE_CODE_SCRIPT = `${LIBRARY}
local now = tonumber(ARGV[3])
local retry = over(2, 7)
if retry > 0 then return {'limited', retry} end
count(2, 7)
local r = redis.call('HMGET', KEYS[1], 'h1', 'e1', 'f', 's', 'p1', 'e2')
local live1 = r[4] == 'live' and r[1] and tonumber(r[2]) > now
local live = live1 or (r[4] == 'live' and r[6] and tonumber(r[6]) > now)
local first = now
if live then first = tonumber(r[3]) end
local expires = math.min(now + tonumber(ARGV[4]), first + tonumber(ARGV[5]))
if expires <= now then
  first = now
  expires = now + tonumber(ARGV[4])
  live1 = false
end
local fields = {'h1', ARGV[1], 'e1', expires, 'a', 0, 'f', first, 's', 'live'}
if ARGV[2] ~= '' then table.insert(fields, 'p1') table.insert(fields, ARGV[2]) end
if live1 then
  table.insert(fields, 'h2') table.insert(fields, r[1])
  table.insert(fields, 'e2') table.insert(fields, r[2])
  if r[5] then table.insert(fields, 'p2') table.insert(fields, r[5]) end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], expires - now + tonumber(ARGV[6]))
return {'issued', expires}
`;

/**
 * KEYS: record, then failure-limit keys. ARGV: codeHash, now, maxAttempts, then (limit, windowMs) per
 * limit key. -> {status, payload | retryAfterMs | 0, 1 when this check counted a failure}
 */
export const CONSUME_CODE_SCRIPT = `${LIBRARY}
local retry = over(2, 4)
if retry > 0 then return {'rate_limited', retry} end
local now = tonumber(ARGV[2])
local r = redis.call('HMGET', KEYS[1], 'h1', 'e1', 'h2', 'e2', 's', 'p1', 'p2')
if not r[5] then
  count(2, 4)
  return {'missing', 0, 1}
end
-- "Used" and "expired" are told only to the code they are about; any other code is a guess at a record that
-- no longer has a live code, answered and counted as if there were no record at all.
local ours = (r[1] and same(r[1], ARGV[1])) or (r[3] and same(r[3], ARGV[1]))
if r[5] == 'used' then
  if ours then return {'used', 0} end
  count(2, 4)
  return {'missing', 0, 1}
end
if r[5] == 'void' then return {'too_many_attempts', 0} end
local live1 = r[1] and tonumber(r[2]) > now
local live2 = r[3] and tonumber(r[4]) > now
if not live1 and not live2 then
  if ours then return {'expired', 0} end
  count(2, 4)
  return {'missing', 0, 1}
end
local payload = nil
if live1 and same(r[1], ARGV[1]) then payload = r[6] or ''
elseif live2 and same(r[3], ARGV[1]) then payload = r[7] or '' end
if payload then
  -- The hashes stay (so the codes of this record still hear "used"); the pending details go.
  redis.call('HSET', KEYS[1], 's', 'used')
  redis.call('HDEL', KEYS[1], 'p1', 'p2')
  return {'ok', payload}
end
count(2, 4)
if redis.call('HINCRBY', KEYS[1], 'a', 1) >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 's', 'void')
  redis.call('HDEL', KEYS[1], 'h1', 'h2', 'p1', 'p2')
  return {'too_many_attempts', 0, 1}
end
return {'wrong_code', 0, 1}
`;

/** KEYS: the value's key. ARGV: value, ttlMs. -> the number the key holds afterwards */
export const RAISE_VALUE_SCRIPT = `
local held = tonumber(redis.call('GET', KEYS[1]))
local value = tonumber(ARGV[1])
if held and held > value then return held end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return value
`;

/** KEYS: the value's key. -> the value (nil when absent), which is deleted in the same step */
export const TAKE_VALUE_SCRIPT = `
local value = redis.call('GET', KEYS[1])
if value then redis.call('DEL', KEYS[1]) end
return value
`;

/**
 * The delivery queue: KEYS queue (sorted set: job id by due time), jobs (hash: id -> "deadline|attempts|body"),
 * pace (the earliest time the next job may be handed out, for every instance). One hash slot ({mail}), so it
 * also runs on Redis Cluster. ARGV[1] is the operation:
 *   enqueue id body dueAt deadline cap      -> 1, or 0 when the queue holds cap jobs
 *   claim now leaseMs intervalMs            -> {'job'|'expired', id, attempts, body} | {'wait', ms} | {'empty'}
 *   done id                                 -> 1
 *   retry id retryAt pauseUntil             -> 1
 */
export const DELIVERY_KEYS = ["{mail}:queue", "{mail}:jobs", "{mail}:pace"];
export const DELIVERY_QUEUE_CAP = 10_000;
export const DELIVERY_SCRIPT = `
local op = ARGV[1]
if op == 'enqueue' then
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[6]) then return 0 end
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[5] .. '|0|' .. ARGV[3])
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
  return 1
end
if op == 'done' then
  redis.call('ZREM', KEYS[1], ARGV[2])
  redis.call('HDEL', KEYS[2], ARGV[2])
  return 1
end
if op == 'retry' then
  if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2]) end
  local pause = tonumber(ARGV[4])
  local held = tonumber(redis.call('GET', KEYS[3]) or '0')
  if pause > held then redis.call('SET', KEYS[3], ARGV[4], 'PX', math.max(1, pause - tonumber(ARGV[5]) + 60000)) end
  return 1
end
local now = tonumber(ARGV[2])
local pace = tonumber(redis.call('GET', KEYS[3]) or '0')
while true do
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if #first == 0 then return {'empty'} end
  local id, due = first[1], tonumber(first[2])
  local raw = redis.call('HGET', KEYS[2], id)
  if not raw then
    redis.call('ZREM', KEYS[1], id)
  else
    local deadline, attempts, body = string.match(raw, '^(%d+)|(%d+)|(.*)$')
    if tonumber(deadline) <= now then
      redis.call('ZREM', KEYS[1], id)
      redis.call('HDEL', KEYS[2], id)
      return {'expired', id, attempts, body}
    end
    if due > now then return {'wait', math.ceil(due - now)} end
    if pace > now then return {'wait', math.ceil(pace - now)} end
    attempts = tonumber(attempts) + 1
    redis.call('HSET', KEYS[2], id, deadline .. '|' .. attempts .. '|' .. body)
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), id)
    local interval = tonumber(ARGV[4])
    if interval > 0 then redis.call('SET', KEYS[3], tostring(now + interval), 'PX', interval + 60000) end
    return {'job', id, attempts, body}
  end
end
`;

function limitArgs(rules: LimitRule[]): string[] {
  return rules.flatMap((rule) => [String(rule.limit), String(rule.windowMs)]);
}

/** The keys and arguments of each script, and how to read its reply. */
export const scriptCalls = {
  limits(mode: LimitMode, rules: LimitRule[]) {
    return { keys: rules.map((r) => r.key), args: [mode, ...limitArgs(rules)] };
  },
  issue(
    key: string,
    i: { codeHash: string; payload: string; now: number; ttlMs: number; maxLifetimeMs: number; retentionMs: number; sendLimits: LimitRule[] },
  ) {
    return {
      keys: [key, ...i.sendLimits.map((r) => r.key)],
      args: [i.codeHash, i.payload, String(i.now), String(i.ttlMs), String(i.maxLifetimeMs), String(i.retentionMs), ...limitArgs(i.sendLimits)],
    };
  },
  enqueueDelivery(job: { id: string; body: string; dueAt: number; deadline: number }) {
    return { keys: DELIVERY_KEYS, args: ["enqueue", job.id, job.body, String(job.dueAt), String(Math.ceil(job.deadline)), String(DELIVERY_QUEUE_CAP)] };
  },
  claimDelivery(i: { now: number; leaseMs: number; intervalMs: number }) {
    return { keys: DELIVERY_KEYS, args: ["claim", String(i.now), String(i.leaseMs), String(Math.ceil(i.intervalMs))] };
  },
  settleDelivery(i: SettleDeliveryInput, now: number) {
    return {
      keys: DELIVERY_KEYS,
      args: i.done ? ["done", i.id] : ["retry", i.id, String(i.retryAt), String(Math.ceil(i.pauseUntil ?? 0)), String(now)],
    };
  },
  raise(key: string, value: number, ttlMs: number) {
    return { keys: [key], args: [String(value), String(Math.max(1, Math.ceil(ttlMs)))] };
  },
  consume(key: string, i: { codeHash: string; now: number; maxAttempts: number; failureLimits: LimitRule[] }) {
    return {
      keys: [key, ...i.failureLimits.map((r) => r.key)],
      args: [i.codeHash, String(i.now), String(i.maxAttempts), ...limitArgs(i.failureLimits)],
    };
  },
};

export function parseTakeReply(reply: unknown): string | null {
  if (reply === null || reply === undefined || reply === false) return null;
  if (typeof reply !== "string") throw new Error("Unexpected reply from the take-value script");
  return reply;
}

export function parseRaiseReply(reply: unknown): number {
  const held = Number(reply);
  if (!Number.isInteger(held)) throw new Error("Unexpected reply from the raise-value script");
  return held;
}

export function parseLimitReply(reply: unknown): LimitOutcome {
  const [allowed, retry] = reply as [number | string, number | string];
  return Number(allowed) === 1 ? { allowed: true } : { allowed: false, retryAfterMs: Number(retry) };
}

export function parseIssueReply(reply: unknown): IssueCodeOutcome {
  const [status, value] = reply as [string, number | string];
  return status === "limited" ? { status: "limited", retryAfterMs: Number(value) } : { status: "issued", expiresAt: Number(value) };
}

/** Whether a consume script's reply says it counted a failure on its limit keys. */
export function consumeCountedFailure(reply: unknown): boolean {
  return Number((reply as unknown[])[2]) === 1;
}

export function parseConsumeReply(reply: unknown): ConsumeCodeOutcome {
  const [status, value] = reply as [string, number | string];
  switch (status) {
    case "ok":
      return { status: "ok", payload: String(value ?? "") };
    case "rate_limited":
      return { status: "rate_limited", retryAfterMs: Number(value) };
    case "wrong_code":
    case "too_many_attempts":
    case "expired":
    case "used":
    case "missing":
      return { status };
    default:
      throw new Error(`Unexpected reply from the code store script: ${String(status)}`);
  }
}

export function parseClaimReply(reply: unknown): ClaimDeliveryOutcome {
  const [status, a, b, c] = reply as [string, string | number, string | number, string];
  switch (status) {
    case "job":
    case "expired":
      return { status, job: { id: String(a), attempts: Number(b), body: String(c ?? "") } };
    case "wait":
      return { status: "wait", waitMs: Number(a) };
    case "empty":
      return { status: "empty" };
    default:
      throw new Error(`Unexpected reply from the delivery script: ${String(status)}`);
  }
}
