import "server-only";
import type { AppConfig } from "../platform/config";
import { allCodeFailuresRule, CODE_FAILURES_ALL } from "./limits";
import { logAuthEvent } from "../platform/log";
import type { CodeStore, LimitRule } from "../store/code-store";

/**
 * The product-wide signal against guessing spread over many addresses and networks: every wrong code
 * counts on one counter per hour. Above the configured level (far above normal use) the alarm is on:
 * it is logged, /admin shows it, and every code check waits a moment first. Nobody is refused by it;
 * a spray just gets slower per client, while the per-address and per-network budgets still bound it.
 */

export interface GuessingAlarmDependencies {
  store: CodeStore;
  config: Pick<AppConfig, "limits">;
  now?: () => number;
  /** How a check waits while the alarm is on (a fake in the service tests). */
  sleep?: (ms: number) => Promise<void>;
}

/** The alarm is logged at most once per this span per process, however many checks see it on. */
const LOG_EVERY_MS = 10 * 60_000;

export const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createGuessingAlarm({ store, config, now = Date.now, sleep = realSleep }: GuessingAlarmDependencies) {
  const threshold: LimitRule = { ...CODE_FAILURES_ALL, limit: config.limits.codeFailureAlarmPerHour };
  let loggedAt = -Infinity;

  /** Wrong codes across every address this hour are at or above the alarm level. */
  async function isOn(): Promise<boolean> {
    const check = await store.limits("check", [threshold]);
    return !check.allowed;
  }

  /** Before a code check: waits CODE_FAILURE_ALARM_DELAY_MS while the alarm is on. */
  async function pace(): Promise<void> {
    if (!(await isOn())) return;
    if (now() - loggedAt >= LOG_EVERY_MS) {
      loggedAt = now();
      logAuthEvent("code_guessing_alarm", {
        threshold: threshold.limit,
        windowMinutes: threshold.windowMs / 60_000,
        delayMs: config.limits.codeFailureAlarmDelayMs,
      });
    }
    await sleep(config.limits.codeFailureAlarmDelayMs);
  }

  /** Counted with each code check's failure budgets: one more counter on every wrong code. */
  const counted: LimitRule[] = [allCodeFailuresRule()];

  return { isOn, pace, counted, threshold: threshold.limit };
}

export type GuessingAlarm = ReturnType<typeof createGuessingAlarm>;
