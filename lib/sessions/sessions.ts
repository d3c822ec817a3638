import "server-only";
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import type { Database } from "@/db/client";
import { endSessionRecord, insertSession, touchLiveSession } from "@/db/sessions";
import { findUserById, raiseSessionVersion } from "@/db/users";
import type { AppConfig } from "../platform/config";
import type { SessionDevice } from "./session-device";
import type { CodeStore } from "../store/code-store";

/**
 * Sessions that really end. Auth.js keeps sessions in a signed cookie (JWT); these claims ride in it and
 * are checked on every authenticated request: an absolute lifetime from login, an idle timeout, the
 * session's own row in the database (a session is valid only while its row exists and is not ended), and
 * the user's session version, which is bumped whenever every existing session must end (password change,
 * deactivation, role change, "sign out everywhere"). The code store caches both answers; the database
 * decides whenever the cache has nothing, so an ended session stays ended when Redis loses its data.
 */
export interface SessionClaims {
  sub: string;
  /** This session's id: stays the same across the cookie's re-issues, so logout can deny it. */
  sid: string;
  sv: number;
  authTime: number;
  lastSeen: number;
}

type SessionConfig = Pick<AppConfig["auth"], "sessionMaxAgeSeconds" | "sessionIdleTimeoutSeconds">;

/** The user's session state is cached this long; a bump writes the cache, so this only bounds a failed write. */
const VERSION_CACHE_MS = 60_000;
/** "The database says this session is live", cached this long: bounds the reads and last-seen writes per session. */
const LIVE_CACHE_MS = 60_000;
const denyKey = (sid: string) => `session:deny:${sid}`;
const liveKey = (sid: string) => `session:live:${sid}`;
const userStateKey = (userId: string) => `session:user-state:${userId}`;

/**
 * The version and whether the account is active, as one number that only grows: deactivation bumps the
 * version in the same UPDATE (lib/staff/admin.ts) and activation adds one, so a newer state is always a higher
 * number and the cache can refuse to go back (CodeStore.raiseValue) when a request that read the database
 * before a bump writes after it. A deleted account is -1. A session of version v is valid only at 2v + 1.
 */
const userState = (user: { sessionVersion: number; isActive: boolean } | undefined) => (user ? user.sessionVersion * 2 + (user.isActive ? 1 : 0) : -1);

export function newSessionClaims(user: { id: string; sessionVersion: number }, now: number): SessionClaims {
  return { sub: user.id, sid: randomUUID(), sv: user.sessionVersion, authTime: now, lastSeen: now };
}

/** Signing in: the claims of a new session, recorded in the database (without its row it is never valid). */
export async function startSession(
  db: Database,
  user: { id: string; sessionVersion: number },
  now: number,
  device: SessionDevice = {},
): Promise<SessionClaims> {
  const claims = newSessionClaims(user, now);
  await insertSession(db, { id: claims.sid, userId: user.id, sessionVersion: user.sessionVersion, ...device }, new Date(now));
  return claims;
}

export type SessionCheck = "ok" | "expired" | "idle" | "ended";

/** One store read (deny-list, live marker, cached version); the database only for what the cache lacks. */
export async function checkSession(
  deps: { db: Database; store: CodeStore; config: SessionConfig },
  claims: Partial<SessionClaims>,
  now: number,
): Promise<SessionCheck> {
  const { sub, sid, sv, authTime, lastSeen } = claims;
  if (!sub || !sid || typeof sv !== "number" || typeof authTime !== "number" || typeof lastSeen !== "number") return "ended";
  if (now - authTime > deps.config.sessionMaxAgeSeconds * 1000) return "expired";
  if (now - lastSeen > deps.config.sessionIdleTimeoutSeconds * 1000) return "idle";
  const [denied, live, cached] = await deps.store.readValues([denyKey(sid), liveKey(sid), userStateKey(sub)]);
  if (denied) return "ended";
  if (!live) {
    if (!(await touchLiveSession(deps.db, sid, sub, new Date(now)))) {
      await denyInStore(deps.store, claims, deps.config, now);
      return "ended";
    }
    // An ending that lands between the database read and this write still counts: its deny entry is read first.
    await deps.store.writeValue(liveKey(sid), "1", LIVE_CACHE_MS);
  }
  let state = cached === null ? undefined : Number(cached);
  if (state === undefined) {
    // A bump may land between this read and the write: the store then keeps (and answers) the newer state.
    state = await deps.store.raiseValue(userStateKey(sub), userState(await findUserById(deps.db, sub)), VERSION_CACHE_MS);
  }
  return state === userState({ sessionVersion: sv, isActive: true }) ? "ok" : "ended";
}

/**
 * Logout, or a new login replacing this session: its token stops working for good, also a copy replayed
 * later. The database first (it is what survives), then the store's deny entry for the fast path.
 */
export async function endSession(deps: { db: Database; store: CodeStore; config: SessionConfig }, claims: Partial<SessionClaims>, now: number): Promise<void> {
  if (!claims.sid) return;
  await endSessionRecord(deps.db, claims.sid, new Date(now));
  await denyInStore(deps.store, claims, deps.config, now);
}

/** The deny entry lives until the session would have expired anyway. */
export async function denyInStore(store: CodeStore, claims: Partial<SessionClaims>, config: SessionConfig, now: number): Promise<void> {
  if (!claims.sid || typeof claims.authTime !== "number") return;
  const remaining = claims.authTime + config.sessionMaxAgeSeconds * 1000 - now;
  if (remaining > 0) await store.writeValue(denyKey(claims.sid), "1", remaining);
}

/** Ends every session of a user on its next request; the new version (for renewCurrentSession), if the user exists. */
export async function bumpSessionVersion(
  db: Database,
  store: CodeStore,
  userId: string,
): Promise<{ id: string; sessionVersion: number; isActive: boolean; email: string } | undefined> {
  const row = await raiseSessionVersion(db, userId, new Date());
  if (row) await rememberSessionVersion(store, row);
  return row;
}

/** After the version changed in the database: the cached copy follows at once. */
export async function rememberSessionVersion(store: CodeStore, user: { id: string; sessionVersion: number; isActive: boolean }): Promise<void> {
  await store.raiseValue(userStateKey(user.id), userState(user), VERSION_CACHE_MS);
}

/**
 * Keeping one's own session across a change that ends all sessions (lib/sessions/login.ts renewCurrentSession).
 * Auth.js lets any client post "update" data to its session endpoint, so the renewal must carry proof
 * that this server made it a moment ago: an HMAC under the auth secret, valid for a few seconds.
 */
export interface SessionRenewal {
  userId: string;
  sessionVersion: number;
  email: string;
}

const RENEWAL_TTL_MS = 10_000;

function renewalMac(secret: string, r: SessionRenewal, expiresAt: number): string {
  return createHmac("sha256", secret)
    .update(JSON.stringify(["session-renewal/v1", r.userId, r.sessionVersion, r.email, expiresAt]))
    .digest("hex");
}

/** A renewal with its expiry and the server's MAC, as updateSession() carries it. */
export type SessionRenewalGrant = SessionRenewal & { expiresAt: number; mac: string };

export function grantSessionRenewal(secret: string, renewal: SessionRenewal, now: number): SessionRenewalGrant {
  const expiresAt = now + RENEWAL_TTL_MS;
  return { ...renewal, expiresAt, mac: renewalMac(secret, renewal, expiresAt) };
}

export function acceptSessionRenewal(secret: string, grant: unknown, now: number): SessionRenewal | undefined {
  const g = grant as Partial<SessionRenewalGrant> | undefined;
  if (!g || typeof g.userId !== "string" || typeof g.sessionVersion !== "number" || typeof g.email !== "string") return undefined;
  if (typeof g.expiresAt !== "number" || g.expiresAt < now || typeof g.mac !== "string") return undefined;
  const expected = Buffer.from(renewalMac(secret, g as SessionRenewal, g.expiresAt));
  const given = Buffer.from(g.mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  return { userId: g.userId, sessionVersion: g.sessionVersion, email: g.email };
}
