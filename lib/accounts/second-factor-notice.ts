import "server-only";
import type { AppConfig } from "../platform/config";
import { logAuthEvent } from "../platform/log";
import type { CodeMachinery } from "../codes/one-time-codes";
import type { CodeStore, LimitRule } from "../store/code-store";

/**
 * Wrong second-factor codes come only after the right password, so a run of them means the password is
 * probably known to someone else: after N in a row the account's (verified) address is told, once per run.
 * The notice goes within the address's usual send limits, so it cannot be turned into a mail bomb.
 */

const DAY = 24 * 60 * 60 * 1000;

export function createSecondFactorNotice(deps: { store: CodeStore; config: Pick<AppConfig, "limits">; codes: CodeMachinery }) {
  const { store, config, codes } = deps;
  const run = (userId: string): LimitRule => ({
    key: `limit:{user:${userId}}:second-factor-wrong`,
    limit: config.limits.secondFactorNoticeAfter,
    windowMs: DAY,
  });

  /** Counts one wrong code; the one that completes the run mails the notice (later ones in the run do not). */
  async function wrongCode(user: { id: string; email: string }): Promise<void> {
    const counted = await store.limits("hit", [run(user.id)]);
    if (!counted.allowed) return;
    const reached = await store.limits("check", [run(user.id)]);
    if (reached.allowed) return;
    // Staff never get sign-in codes, so that purpose's cooldown is this notice's own.
    const sent = await codes.notifyWithinLimits("second_factor_failures", user.email, "sign_in");
    logAuthEvent("second_factor_notice", { userId: user.id, delivery: sent.status });
  }

  /** A right second factor ends the run. */
  async function cleared(userId: string): Promise<void> {
    await store.limits("reset", [run(userId)]);
  }

  return { wrongCode, cleared };
}

export type SecondFactorNotice = ReturnType<typeof createSecondFactorNotice>;
