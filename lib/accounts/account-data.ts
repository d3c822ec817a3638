import "server-only";
import { authEventsOf, deleteAccountRows, otherActiveAdmins } from "@/db/account-data";
import { sessionRecordsOf } from "@/db/session-list";
import { findUserById } from "@/db/users";
import type { AccountDependencies, Delivery, SharedParts } from "./accounts";
import { CODE_PURPOSES, codeKey } from "../codes/codes";
import type { AppConfig } from "../platform/config";
import { verifyFailureLimits } from "../codes/limits";
import { logAuthEvent } from "../platform/log";
import { confirmOwnPassword, type PasswordRefusal } from "./password-confirmation";
import { codeRefusalReason, rateLimited, type CodeRefusal, type RateLimited, type RequestContext } from "./results";
import { denyInStore } from "../sessions/sessions";
import { listPasskeys } from "@/db/passkeys";
import { NO_PASSWORD } from "@/db/schema";

/**
 * The person's own data: a copy of what the product holds about them, and deleting the account. Deletion
 * takes the password typed again and then a code mailed to the address (issued only after the right
 * password, so consuming it proves both, recently). Every session ends (rows and deny entries), the
 * account's rows and its code records go; the audit log keeps its rows, which never held an address or a
 * name, only the account's random id.
 */

export type DeletionStartResult = { ok: true; delivery: Delivery } | PasswordRefusal | { ok: false; reason: "last_admin" };
export type DeletionResult = { ok: true } | CodeRefusal | { ok: false; reason: "last_admin" } | RateLimited;

export function createAccountData(deps: AccountDependencies & { config: Pick<AppConfig, "auth"> }, parts: SharedParts) {
  const { db, store, config } = deps;
  const now = deps.now ?? Date.now;
  const { codes, loginAttempts, secondFactor } = parts;

  async function isLastAdmin(user: { id: string; role: string }): Promise<boolean> {
    return user.role === "admin" && (await otherActiveAdmins(db, user.id)) === 0;
  }

  async function requestDeletion(userId: string, password: string, context: RequestContext): Promise<DeletionStartResult> {
    const checked = await confirmOwnPassword({ db, loginAttempts }, userId, password, context);
    if (!checked.ok) return checked;
    if (await isLastAdmin(checked.user)) return { ok: false, reason: "last_admin" };
    const sent = await codes.issue({ purpose: "delete_account", accountId: userId, to: checked.user.email });
    if (sent.status === "limited") return rateLimited(sent.retryAfterMs, "send");
    return { ok: true, delivery: sent.status };
  }

  async function deleteAccount(userId: string, otp: string, context: RequestContext): Promise<DeletionResult> {
    const user = await findUserById(db, userId);
    if (!user) return { ok: false, reason: "used" };
    if (await isLastAdmin(user)) return { ok: false, reason: "last_admin" };
    const outcome = await codes.consume("delete_account", { accountId: userId }, otp, verifyFailureLimits(config, codes.idOf(user.email), context.ip));
    if (outcome.status === "rate_limited") return rateLimited(outcome.retryAfterMs, "verify_failures");
    if (outcome.status !== "ok") return { ok: false, reason: codeRefusalReason(outcome) };
    const sessions = await sessionRecordsOf(db, userId);
    if (!(await deleteAccountRows(db, userId))) return { ok: false, reason: "last_admin" };
    // The rows are gone, so the database already refuses these sessions; the deny entries answer sooner.
    const at = now();
    await Promise.all(sessions.map((s) => denyInStore(store, { sid: s.id, authTime: s.createdAt.getTime() }, config.auth, at)));
    const id = codes.idOf(user.email);
    await store.forget([
      ...CODE_PURPOSES.flatMap((purpose) => [codeKey(id, purpose), codeKey(`account:${userId}`, purpose)]),
      `registration:{${id}}`,
      `session:user-state:${userId}`,
    ]);
    logAuthEvent("account_deleted", { userId });
    await codes.notify("account_deleted", user.email);
    return { ok: true };
  }

  /** Everything the product holds about the person, nothing secret: no hash, no TOTP secret, no recovery code, no session token. */
  async function exportData(userId: string) {
    const user = await findUserById(db, userId);
    if (!user) return undefined;
    const [sessions, events, second, keys] = await Promise.all([
      sessionRecordsOf(db, userId),
      authEventsOf(db, userId),
      secondFactor.status(userId),
      listPasskeys(db, userId),
    ]);
    logAuthEvent("data_exported", { userId });
    return {
      exportedAt: new Date(now()).toISOString(),
      profile: {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        active: user.isActive,
        emailVerifiedAt: user.emailVerifiedAt?.toISOString() ?? null,
        createdAt: user.createdAt.toISOString(),
        updatedAt: user.updatedAt.toISOString(),
        hasPassword: user.passwordHash !== NO_PASSWORD,
      },
      // Names and dates only: never a public key or a credential id.
      passkeys: keys.map((k) => ({ name: k.name, addedAt: k.createdAt.toISOString(), lastUsedAt: k.lastUsedAt?.toISOString() ?? null, backedUp: k.backedUp })),
      secondFactor: { enabled: second.enabled, recoveryCodesLeft: second.recoveryCodesLeft },
      sessions: sessions.map((s) => ({
        id: s.id,
        signedInAt: s.createdAt.toISOString(),
        lastActiveAt: s.lastSeenAt.toISOString(),
        endedAt: s.endedAt?.toISOString() ?? null,
        userAgent: s.userAgent,
        network: s.ipPrefix,
      })),
      securityEvents: events.map((e) => ({
        at: e.at.toISOString(),
        event: e.event,
        outcome: e.outcome,
        detail: e.detail ? (JSON.parse(e.detail) as unknown) : null,
      })),
    };
  }

  return { requestDeletion, deleteAccount, exportData };
}

export type AccountData = ReturnType<typeof createAccountData>;
export type AccountExport = NonNullable<Awaited<ReturnType<AccountData["exportData"]>>>;
