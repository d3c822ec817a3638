import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { sessions, users } from "@/db/schema";
import { parseConfig } from "@/lib/platform/config";
import { bumpSessionVersion, checkSession, endSession, newSessionClaims, startSession, type SessionClaims } from "@/lib/sessions/sessions";
import { MemoryCodeStore } from "@/lib/store/memory";
import { serviceHarness } from "@/testing/service-harness";

/**
 * lib/sessions/sessions.ts's lifetimes with the default configuration: 30 days absolute from login (activity never
 * extends it), 7 days idle, a deny-list entry at logout, and the user's session version. The in-process
 * store, and a fresh libSQL database for the version lookup on a cache miss. `now` is passed explicitly;
 * no clock is faked (the store's value expiry reads the real Date.now(), far from the times used here).
 */

const config = parseConfig({ NODE_ENV: "test", AUTH_SECRET: "test-secret-for-session-lifetimes" }).auth;
const SECOND = 1000;
const DAY = 24 * 3600 * SECOND;
const MAX_AGE_MS = 30 * DAY;
const IDLE_MS = 7 * DAY;
/** The login time of every session here: 15 January 2030, 12:00 UTC. */
const LOGIN = Date.UTC(2030, 0, 15, 12, 0, 0);

const harness = serviceHarness("session-lifetimes-test");
let handle: Awaited<ReturnType<typeof harness.freshDatabase>>;
let store: MemoryCodeStore;
let deps: Parameters<typeof checkSession>[0];

async function insertUser(sessionVersion: number, isActive = true) {
  const [row] = await handle.db
    .insert(users)
    .values({ id: randomUUID(), email: `${randomUUID()}@example.test`, name: "Session Tester", passwordHash: "x", isActive, sessionVersion })
    .returning();
  if (!row) throw new Error("the insert returned no row");
  return row;
}

/** The claims as the cookie carries them after activity at `lastSeen`. */
const seenAt = (claims: SessionClaims, lastSeen: number): SessionClaims => ({ ...claims, lastSeen });

beforeEach(async () => {
  handle = await harness.freshDatabase();
  store = new MemoryCodeStore();
  deps = { db: handle.db, store, config };
});

describe("session lifetimes", () => {
  it("defaults to 30 days absolute and 7 days idle; startSession stamps authTime = lastSeen = now and a fresh sid", async () => {
    expect(config.sessionMaxAgeSeconds).toBe(30 * 24 * 3600);
    expect(config.sessionIdleTimeoutSeconds).toBe(7 * 24 * 3600);
    const user = await insertUser(4);
    const a = await startSession(handle.db, user, LOGIN);
    const b = await startSession(handle.db, user, LOGIN);
    expect(a).toEqual({ sub: user.id, sid: expect.stringMatching(/^[0-9a-f-]{36}$/), sv: 4, authTime: LOGIN, lastSeen: LOGIN });
    expect(b.sid).not.toBe(a.sid);
    await expect(checkSession(deps, a, LOGIN)).resolves.toBe("ok");
  });

  it("is ok just before 30 days after authTime despite activity a minute ago, and expired just after", async () => {
    const claims = await startSession(handle.db, await insertUser(0), LOGIN);
    const justBefore = LOGIN + MAX_AGE_MS - 1;
    const justAfter = LOGIN + MAX_AGE_MS + 1;
    await expect(checkSession(deps, seenAt(claims, justBefore - 60 * SECOND), justBefore)).resolves.toBe("ok");
    await expect(checkSession(deps, seenAt(claims, LOGIN + MAX_AGE_MS), LOGIN + MAX_AGE_MS)).resolves.toBe("ok");
    // Activity a moment ago does not extend the absolute lifetime.
    await expect(checkSession(deps, seenAt(claims, justAfter - SECOND), justAfter)).resolves.toBe("expired");
    await expect(checkSession(deps, seenAt(claims, justAfter), justAfter)).resolves.toBe("expired");
  });

  it("is idle once lastSeen is more than 7 days old, even well within the 30 days", async () => {
    const claims = await startSession(handle.db, await insertUser(0), LOGIN);
    const lastSeen = LOGIN + 10 * DAY;
    const active = seenAt(claims, lastSeen);
    await expect(checkSession(deps, active, lastSeen + IDLE_MS - 1)).resolves.toBe("ok");
    await expect(checkSession(deps, active, lastSeen + IDLE_MS)).resolves.toBe("ok");
    await expect(checkSession(deps, active, lastSeen + IDLE_MS + 1)).resolves.toBe("idle");
    // 17 days after login: the absolute limit is far away, the idle one decides.
    expect(lastSeen + IDLE_MS + 1 - LOGIN).toBeLessThan(MAX_AGE_MS);
    // Straight after login, with no activity at all.
    await expect(checkSession(deps, claims, LOGIN + IDLE_MS + 1)).resolves.toBe("idle");
  });

  it("answers ended for a denied sid (logout), while another session of the same user stays ok", async () => {
    const user = await insertUser(0);
    const loggedOut = await startSession(handle.db, user, LOGIN);
    const other = await startSession(handle.db, user, LOGIN);
    const now = LOGIN + DAY;
    await expect(checkSession(deps, seenAt(loggedOut, now), now)).resolves.toBe("ok");
    await endSession(deps, loggedOut, now);
    await expect(checkSession(deps, seenAt(loggedOut, now), now)).resolves.toBe("ended");
    await expect(checkSession(deps, seenAt(loggedOut, now + SECOND), now + SECOND)).resolves.toBe("ended");
    await expect(checkSession(deps, seenAt(other, now), now)).resolves.toBe("ok");
  });

  it("answers ended when the session version is lower than the user's (from the database on a cache miss, and after a bump)", async () => {
    const user = await insertUser(3);
    const now = LOGIN + DAY;
    // Cache miss: the version comes from the database.
    const stale: SessionClaims = { ...(await startSession(handle.db, user, LOGIN)), sv: 2, lastSeen: now };
    await expect(checkSession(deps, stale, now)).resolves.toBe("ended");
    const current = seenAt(await startSession(handle.db, user, LOGIN), now);
    await expect(checkSession({ ...deps, store: new MemoryCodeStore() }, current, now)).resolves.toBe("ok");
    await expect(checkSession(deps, current, now)).resolves.toBe("ok"); // now from the cached version

    // "Sign out everywhere": the version goes to 4, the session made at 3 ends.
    await bumpSessionVersion(handle.db, store, user.id);
    await expect(checkSession(deps, current, now)).resolves.toBe("ended");
    await expect(checkSession(deps, seenAt(await startSession(handle.db, { ...user, sessionVersion: 4 }, LOGIN), now), now)).resolves.toBe("ok");
  });
});

describe("the session's row in the database", () => {
  it("keeps a logged-out session ended when the store has lost its data", async () => {
    const user = await insertUser(0);
    const now = LOGIN + DAY;
    const loggedOut = seenAt(await startSession(handle.db, user, LOGIN), now);
    await endSession(deps, loggedOut, now);
    await expect(checkSession({ ...deps, store: new MemoryCodeStore() }, loggedOut, now + SECOND)).resolves.toBe("ended");
  });

  it("keeps a live session ok when the store has lost its data, and records its last activity", async () => {
    const user = await insertUser(0);
    const now = LOGIN + DAY;
    const live = seenAt(await startSession(handle.db, user, LOGIN, { userAgent: "Test/1.0", ipPrefix: "203.0.113.0/24" }), now);
    await expect(checkSession({ ...deps, store: new MemoryCodeStore() }, live, now)).resolves.toBe("ok");
    const [row] = await handle.db.select().from(sessions).where(eq(sessions.id, live.sid));
    expect(row).toMatchObject({ userId: user.id, userAgent: "Test/1.0", ipPrefix: "203.0.113.0/24", endedAt: null });
    expect(row?.createdAt.getTime()).toBe(LOGIN);
    expect(row?.lastSeenAt.getTime()).toBe(now);
  });

  it("answers ended for a session this server never recorded, or recorded for another user", async () => {
    const user = await insertUser(0);
    const now = LOGIN + DAY;
    await expect(checkSession(deps, seenAt(newSessionClaims(user, LOGIN), now), now)).resolves.toBe("ended");
    const other = await insertUser(0);
    const theirs = await startSession(handle.db, other, LOGIN);
    await expect(checkSession(deps, seenAt({ ...theirs, sub: user.id }, now), now)).resolves.toBe("ended");
  });
});

describe("the cached session version", () => {
  /**
   * The store, except that the first write of a key naming `userId` waits for `meanwhile` to run first:
   * a request read the user's version from the database, and before it could cache it, a bump happened.
   */
  function interleaved(inner: MemoryCodeStore, userId: string, meanwhile: () => Promise<unknown>): MemoryCodeStore {
    let armed = true;
    return new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function" || property === "readValues") return value.bind?.(target) ?? value;
        return async (...args: unknown[]) => {
          if (armed && typeof args[0] === "string" && args[0].includes(userId)) {
            armed = false;
            await meanwhile();
          }
          return value.apply(target, args);
        };
      },
    });
  }

  it("cannot be lowered by a version read just before a bump: the ended session stays ended", async () => {
    const user = await insertUser(0);
    const now = LOGIN + DAY;
    const claims = seenAt(await startSession(handle.db, user, LOGIN), now);
    // "Sign out everywhere" lands between the request's database read (version 0) and its cache write.
    const racing = interleaved(store, user.id, () => bumpSessionVersion(handle.db, store, user.id));
    // The racing request itself is answered with the newer state the store kept.
    await expect(checkSession({ ...deps, store: racing }, claims, now)).resolves.toBe("ended");
    await expect(checkSession(deps, claims, now + SECOND), "a session of version 0 after the bump to 1").resolves.toBe("ended");
  });
});
