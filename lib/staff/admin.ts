import "server-only";
import type { Database } from "@/db/client";
import { ROLES, type Role, type User } from "@/db/schema";
import { findUserPage } from "@/db/staff";
import { removeAllPasskeys } from "@/db/passkeys";
import { findUserById, updateUserEndingSessions } from "@/db/users";
import { logAuthEvent } from "../platform/log";
import { rememberSessionVersion } from "../sessions/sessions";
import type { CodeStore } from "../store/code-store";

/**
 * The staff area's rules: who may open /admin, the users list, and what an admin may change. Pages and
 * server actions under app/admin only adapt these (the access decision itself is pure, for tests).
 */

// ---- Who may open /admin -------------------------------------------------------------------------------

export type AdminAccess =
  | { kind: "ok" }
  /** No session: log in first. */
  | { kind: "sign_in" }
  /** A customer (or an account that is no longer staff): 403. */
  | { kind: "forbidden" }
  /** Staff or admin without a second factor yet: enrol first. */
  | { kind: "enrol" }
  /** Staff or admin whose factor is on but whose session was not opened with it: log in again with the code. */
  | { kind: "reauthenticate" };

/**
 * Staff-only, and only with a session opened with the second factor (ASVS 6.3.3). The role is the one
 * in the database: a role change also ends every session (the version bump), so the two agree, but
 * the database has the last word.
 */
export function decideAdminAccess(
  session: { role?: Role; mfa?: boolean } | null | undefined,
  user: Pick<User, "role" | "isActive"> | undefined,
  secondFactorEnabled: boolean,
): AdminAccess {
  if (!session?.role || !user || !user.isActive) return { kind: "sign_in" };
  if (session.role === "customer" || user.role === "customer") return { kind: "forbidden" };
  if (session.mfa === true) return { kind: "ok" };
  return secondFactorEnabled ? { kind: "reauthenticate" } : { kind: "enrol" };
}

/** Role changes, deactivation and "sign out everywhere" are for admins; staff may look. */
export function canManageUsers(role: Role): boolean {
  return role === "admin";
}

// ---- The users list --------------------------------------------------------------------------------------

export const USERS_PAGE_SIZE = 20;
const VERIFIED_FILTERS = ["all", "verified", "unverified"] as const;
const SORTS = ["created_desc", "created_asc"] as const;

export interface UserListQuery {
  /** Part of an email address, lower-cased. */
  q: string;
  verified: (typeof VERIFIED_FILTERS)[number];
  role: "all" | Role;
  sort: (typeof SORTS)[number];
  page: number;
}

type Params = Record<string, string | string[] | undefined>;

function one(params: Params, name: string): string {
  const value = params[name];
  return typeof value === "string" ? value : "";
}

function oneOf<T extends string>(value: string, allowed: readonly T[], fallback: T): T {
  return (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

/** Search parameters as a query; anything unknown falls back to the default (never an error page). */
export function parseUserListQuery(params: Params): UserListQuery {
  const page = Number.parseInt(one(params, "page"), 10);
  return {
    q: one(params, "q").trim().toLowerCase().slice(0, 254),
    verified: oneOf(one(params, "verified"), VERIFIED_FILTERS, "all"),
    role: oneOf(one(params, "role"), ["all", ...ROLES] as const, "all"),
    sort: oneOf(one(params, "sort"), SORTS, "created_desc"),
    page: Number.isSafeInteger(page) && page > 0 ? page : 1,
  };
}

/** The query as URL search parameters (defaults left out), for links that keep the filters. */
export function userListSearch(query: UserListQuery, changes: Partial<UserListQuery> = {}): string {
  const merged = { ...query, ...changes };
  const params = new URLSearchParams();
  if (merged.q) params.set("q", merged.q);
  if (merged.verified !== "all") params.set("verified", merged.verified);
  if (merged.role !== "all") params.set("role", merged.role);
  if (merged.sort !== "created_desc") params.set("sort", merged.sort);
  if (merged.page > 1) params.set("page", String(merged.page));
  const text = params.toString();
  return text ? `?${text}` : "";
}

export type UserListRow = Pick<User, "id" | "email" | "name" | "role" | "isActive" | "emailVerifiedAt" | "createdAt">;

export interface UserListPage {
  rows: UserListRow[];
  total: number;
  page: number;
  pages: number;
}

export async function listUsers(db: Database, query: UserListQuery): Promise<UserListPage> {
  return findUserPage(db, query, USERS_PAGE_SIZE);
}

// ---- What an admin may change --------------------------------------------------------------------------

export type AdminActionResult =
  /** passkeysRemoved: on a role change from customer to staff or admin (see changeRole). */
  { ok: true; user: User; passkeysRemoved?: number } | { ok: false; reason: "not_allowed" | "self" | "not_found" | "unverified" | "unchanged" };

export interface Actor {
  id: string;
  role: Role;
}

/**
 * Each change ends every session of the person changed on their next request (the session version goes
 * up in the same UPDATE, and the cached copy follows), and is recorded in auth_events with who did it.
 */
export function createUserAdministration(deps: { db: Database; store: CodeStore; now?: () => number }) {
  const { db, store } = deps;
  const list = (query: UserListQuery) => listUsers(db, query);
  const now = deps.now ?? Date.now;

  async function target(actor: Actor, userId: string, options: { notSelf: boolean }) {
    if (!canManageUsers(actor.role)) return { ok: false as const, reason: "not_allowed" as const };
    if (options.notSelf && actor.id === userId) return { ok: false as const, reason: "self" as const };
    const user = await findUserById(db, userId);
    if (!user) return { ok: false as const, reason: "not_found" as const };
    return { ok: true as const, user };
  }

  async function apply(userId: string, changes: Partial<Pick<User, "role" | "isActive">>): Promise<User | undefined> {
    const row = await updateUserEndingSessions(db, userId, changes, new Date(now()));
    if (row) await rememberSessionVersion(store, row);
    return row;
  }

  /** An admin cannot change their own role (so there is always an admin left: the one acting). */
  async function changeRole(actor: Actor, userId: string, role: Role): Promise<AdminActionResult> {
    const found = await target(actor, userId, { notSelf: true });
    if (!found.ok) return found;
    if (found.user.role === role) return { ok: false, reason: "unchanged" };
    if (role !== "customer" && !found.user.emailVerifiedAt) return { ok: false, reason: "unverified" };
    const user = await apply(userId, { role });
    if (!user) return { ok: false, reason: "not_found" };
    logAuthEvent("role_changed", { userId, actorId: actor.id, from: found.user.role, to: role });
    // A customer's passkeys were added without the second factor, and a passkey sign-in counts as one: as staff
    // or admin they would skip it. The person adds them again from a session opened with TOTP.
    let passkeysRemoved = 0;
    if (found.user.role === "customer" && role !== "customer") {
      passkeysRemoved = await removeAllPasskeys(db, userId);
      if (passkeysRemoved > 0) logAuthEvent("passkeys_removed", { userId, actorId: actor.id, count: passkeysRemoved });
    }
    return { ok: true, user, passkeysRemoved };
  }

  /** Deactivating ends the sessions at once and refuses every login; an admin cannot deactivate themselves. */
  async function setActive(actor: Actor, userId: string, active: boolean): Promise<AdminActionResult> {
    const found = await target(actor, userId, { notSelf: true });
    if (!found.ok) return found;
    if (found.user.isActive === active) return { ok: false, reason: "unchanged" };
    // Activation is what proving the address does: an unverified account stays inactive.
    if (active && !found.user.emailVerifiedAt) return { ok: false, reason: "unverified" };
    const user = await apply(userId, { isActive: active });
    if (!user) return { ok: false, reason: "not_found" };
    logAuthEvent(active ? "account_reactivated" : "account_deactivated", { userId, actorId: actor.id });
    return { ok: true, user };
  }

  async function signOutEverywhere(actor: Actor, userId: string): Promise<AdminActionResult> {
    const found = await target(actor, userId, { notSelf: false });
    if (!found.ok) return found;
    const user = await apply(userId, {});
    if (!user) return { ok: false, reason: "not_found" };
    logAuthEvent("sessions_revoked", { userId, actorId: actor.id });
    return { ok: true, user };
  }

  return { list, changeRole, setActive, signOutEverywhere };
}

export type UserAdministration = ReturnType<typeof createUserAdministration>;
