import type { ConsumeCodeOutcome, IssueCodeOutcome } from "./code-store";

/**
 * The Lua scripts behind the Redis adapters (TCP and Upstash REST). lib/store/memory.ts implements the
 * same state machine in TypeScript; the contract tests run one suite against all three.
 *
 * Record: a hash with h (code hash), p (pending payload), a (wrong attempts), e (expires at, ms),
 * i (issued at, ms), s (state: live | used | void).
 */

// Compares two equal-length hex digests without stopping at the first difference.
const SAME = `
local function same(x, y)
  if #x ~= #y then return false end
  local d = 0
  for i = 1, #x do d = bit.bor(d, bit.bxor(string.byte(x, i), string.byte(y, i))) end
  return d == 0
end
`;

/** KEYS[1] record; ARGV: codeHash, payload, now, ttlMs, cooldownMs, retentionMs -> {status, retryAfterMs} */
export const ISSUE_CODE_SCRIPT = `
local now = tonumber(ARGV[3])
local prev = redis.call('HMGET', KEYS[1], 'i', 's', 'p')
local payload = ARGV[2]
if prev[1] then
  local wait = tonumber(prev[1]) + tonumber(ARGV[5]) - now
  if wait > 0 then
    if payload ~= '' and prev[2] == 'live' then redis.call('HSET', KEYS[1], 'p', payload) end
    return {'cooldown', wait}
  end
  if payload == '' and prev[2] == 'live' and prev[3] then payload = prev[3] end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'a', 0, 'e', now + tonumber(ARGV[4]), 'i', now, 's', 'live')
if payload ~= '' then redis.call('HSET', KEYS[1], 'p', payload) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) + tonumber(ARGV[6]))
return {'issued', 0}
`;

/** KEYS[1] record; ARGV: codeHash, now, maxAttempts -> {status, payload | attemptsLeft} */
export const CONSUME_CODE_SCRIPT = `${SAME}
local r = redis.call('HMGET', KEYS[1], 'h', 'a', 'e', 's', 'p')
if not r[4] then return {'missing', 0} end
if r[4] == 'used' then return {'used', 0} end
if r[4] == 'void' then return {'too_many_attempts', 0} end
if tonumber(r[3]) <= tonumber(ARGV[2]) then return {'expired', 0} end
if same(r[1], ARGV[1]) then
  redis.call('HSET', KEYS[1], 's', 'used')
  redis.call('HDEL', KEYS[1], 'h', 'p')
  return {'ok', r[5] or ''}
end
local attempts = redis.call('HINCRBY', KEYS[1], 'a', 1)
local left = tonumber(ARGV[3]) - attempts
if left <= 0 then
  redis.call('HSET', KEYS[1], 's', 'void')
  redis.call('HDEL', KEYS[1], 'h', 'p')
  return {'too_many_attempts', 0}
end
return {'wrong_code', left}
`;

export function issueArgs(i: {
  codeHash: string;
  payload: string;
  now: number;
  ttlMs: number;
  cooldownMs: number;
  retentionMs: number;
}): string[] {
  return [i.codeHash, i.payload, String(i.now), String(i.ttlMs), String(i.cooldownMs), String(i.retentionMs)];
}

export function consumeArgs(i: { codeHash: string; now: number; maxAttempts: number }): string[] {
  return [i.codeHash, String(i.now), String(i.maxAttempts)];
}

export function parseIssueReply(reply: unknown): IssueCodeOutcome {
  const [status, wait] = reply as [string, number | string];
  return status === "cooldown" ? { status: "cooldown", retryAfterMs: Number(wait) } : { status: "issued" };
}

export function parseConsumeReply(reply: unknown): ConsumeCodeOutcome {
  const [status, value] = reply as [string, number | string];
  switch (status) {
    case "ok":
      return { status: "ok", payload: String(value ?? "") };
    case "wrong_code":
      return { status: "wrong_code", attemptsLeft: Number(value) };
    case "too_many_attempts":
    case "expired":
    case "used":
    case "missing":
      return { status };
    default:
      throw new Error(`Unexpected reply from the code store script: ${String(status)}`);
  }
}
