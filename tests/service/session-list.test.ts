import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { recordSessionVersion } from "@/db/session-list";
import { sessions, users } from "@/db/schema";
import { parseConfig } from "@/lib/platform/config";
import { createSessionList } from "@/lib/sessions/session-list";
import { bumpSessionVersion, checkSession, startSession } from "@/lib/sessions/sessions";
import { MemoryCodeStore } from "@/lib/store/memory";
import { describeUserAgent } from "@/lib/sessions/user-agent";
import { serviceHarness } from "@/testing/service-harness";

/**
 * The owner's list of sessions (lib/sessions/session-list.ts) on a real libSQL database and the in-process store:
 * only sessions that still hold are listed, ending one or all others is what logout does, and an ended
 * session stays ended when the store loses its data (a new, empty store stands for a Redis FLUSHALL). Ending
 * another device's session takes the password again; here a stand-in checks it (the HTTP suite uses the real one).
 */

const config = parseConfig({ NODE_ENV: "test", AUTH_SECRET: "test-secret-for-session-list" }).auth;
const DAY = 24 * 3600 * 1000;
const LOGIN = Date.UTC(2030, 0, 15, 12, 0, 0);
const CHROME_LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";
const SAFARI_IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

const harness = serviceHarness("session-list-test");
let handle: Awaited<ReturnType<typeof harness.freshDatabase>>;
let store: MemoryCodeStore;

beforeEach(async () => {
  handle = await harness.freshDatabase();
  store = new MemoryCodeStore();
});

const RIGHT_PASSWORD = "the owner's password";
const CONTEXT = { ip: "198.51.100.7" };
let passwordChecks: string[] = [];
const confirmPassword = async (userId: string, password: string) => {
  passwordChecks.push(userId);
  return password === RIGHT_PASSWORD ? { ok: true as const } : { ok: false as const, reason: "invalid_credentials" as const };
};
beforeEach(() => {
  passwordChecks = [];
});

const deps = () => ({ db: handle.db, store, config });
const listOf = () => createSessionList({ ...deps(), confirmPassword });
/** Asked from the session `currentId` with the right password, or `password` (null: none typed). */
const asking = (currentId: string, password: string | null = RIGHT_PASSWORD) => ({ currentId, password: password ?? undefined, context: CONTEXT });

async function insertUser(sessionVersion = 0, isActive = true) {
  const [row] = await handle.db
    .insert(users)
    .values({ id: randomUUID(), email: `${randomUUID()}@example.test`, name: "List Tester", passwordHash: "x", isActive, sessionVersion })
    .returning();
  if (!row) throw new Error("the insert returned no row");
  return row;
}

describe("the owner's list of sessions", () => {
  it("lists the sessions that hold, this one first and marked current, with browser, system, times and the truncated network only", async () => {
    const user = await insertUser();
    const phone = await startSession(handle.db, user, LOGIN, { userAgent: SAFARI_IPHONE, ipPrefix: "203.0.113.0/24" });
    const laptop = await startSession(handle.db, user, LOGIN + 1000, { userAgent: CHROME_LINUX, ipPrefix: "2001:db8:1::/48" });
    const listed = await listOf().list(user.id, laptop.sid, LOGIN + 2000);
    expect(listed).toEqual([
      {
        id: laptop.sid,
        browser: "Chrome 130",
        system: "Linux",
        signedInAt: new Date(LOGIN + 1000).toISOString(),
        lastActiveAt: new Date(LOGIN + 1000).toISOString(),
        network: "2001:db8:1::/48",
        current: true,
      },
      {
        id: phone.sid,
        browser: "Safari 18",
        system: "iOS",
        signedInAt: new Date(LOGIN).toISOString(),
        lastActiveAt: new Date(LOGIN).toISOString(),
        network: "203.0.113.0/24",
        current: false,
      },
    ]);
    expect(JSON.stringify(listed)).not.toContain("Mozilla");
  });

  it("leaves out sessions that no longer hold: ended, ended by a version bump (no end time), past the idle timeout or the absolute lifetime, and every one of a deactivated account", async () => {
    const user = await insertUser();
    const list = listOf();
    const ended = await startSession(handle.db, user, LOGIN);
    await list.endOne(user.id, ended.sid, asking(randomUUID()), LOGIN + 1);
    const beforeBump = await startSession(handle.db, user, LOGIN);
    await bumpSessionVersion(handle.db, store, user.id);
    const current = await startSession(handle.db, { ...user, sessionVersion: 1 }, LOGIN);
    const idle = await startSession(handle.db, { ...user, sessionVersion: 1 }, LOGIN - 8 * DAY);
    await handle.db
      .update(sessions)
      .set({ createdAt: new Date(LOGIN - 8 * DAY) })
      .where(eq(sessions.id, idle.sid));
    const old = await startSession(handle.db, { ...user, sessionVersion: 1 }, LOGIN - 31 * DAY);
    await handle.db
      .update(sessions)
      .set({ lastSeenAt: new Date(LOGIN) })
      .where(eq(sessions.id, old.sid));

    expect(await checkSession(deps(), beforeBump, LOGIN + 1000)).toBe("ended");
    const listed = await list.list(user.id, current.sid, LOGIN + 1000);
    expect(listed.map((s) => s.id)).toEqual([current.sid]);

    await handle.db.update(users).set({ isActive: false }).where(eq(users.id, user.id));
    expect(await list.list(user.id, current.sid, LOGIN + 1000)).toEqual([]);
  });

  it("a session renewed across a password change (its row takes the new version) stays listed; the others do not", async () => {
    const user = await insertUser();
    const kept = await startSession(handle.db, user, LOGIN);
    const other = await startSession(handle.db, user, LOGIN);
    await bumpSessionVersion(handle.db, store, user.id);
    await recordSessionVersion(handle.db, kept.sid, user.id, 1);
    const listed = await listOf().list(user.id, undefined, LOGIN + 1000);
    expect(listed.map((s) => s.id)).toEqual([kept.sid]);
    expect(listed.map((s) => s.id)).not.toContain(other.sid);
  });
});

describe("ending sessions", () => {
  it("ending one ends exactly that session, and it stays ended when the store loses its data", async () => {
    const user = await insertUser();
    const target = await startSession(handle.db, user, LOGIN);
    const mine = await startSession(handle.db, user, LOGIN);
    await expect(listOf().endOne(user.id, target.sid, asking(mine.sid), LOGIN + 1000)).resolves.toEqual({ ok: true });
    expect(await checkSession(deps(), target, LOGIN + 2000)).toBe("ended");
    store = new MemoryCodeStore(); // the store's deny entry is gone, as after a Redis FLUSHALL
    expect(await checkSession(deps(), target, LOGIN + 3000)).toBe("ended");
    expect(await checkSession(deps(), mine, LOGIN + 3000)).toBe("ok");
  });

  it("cannot end another person's session (not_found), nor one already ended; theirs carries on", async () => {
    const me = await insertUser();
    const someone = await insertUser();
    const theirs = await startSession(handle.db, someone, LOGIN);
    await expect(listOf().endOne(me.id, theirs.sid, asking(randomUUID()), LOGIN + 1000)).resolves.toEqual({ ok: false, reason: "not_found" });
    expect(await checkSession(deps(), theirs, LOGIN + 2000)).toBe("ok");
    await listOf().endOne(someone.id, theirs.sid, asking(randomUUID()), LOGIN + 3000);
    await expect(listOf().endOne(someone.id, theirs.sid, asking(randomUUID()), LOGIN + 4000)).resolves.toEqual({ ok: false, reason: "not_found" });
  });

  it("ending all others keeps only this session, also after the store loses its data; another person's sessions are untouched", async () => {
    const user = await insertUser();
    const someone = await insertUser();
    const theirs = await startSession(handle.db, someone, LOGIN);
    const others = [await startSession(handle.db, user, LOGIN), await startSession(handle.db, user, LOGIN)];
    const mine = await startSession(handle.db, user, LOGIN);
    await expect(listOf().endOthers(user.id, asking(mine.sid), LOGIN + 1000)).resolves.toEqual({ ok: true, ended: 2 });
    store = new MemoryCodeStore();
    for (const s of others) expect(await checkSession(deps(), s, LOGIN + 2000)).toBe("ended");
    expect(await checkSession(deps(), mine, LOGIN + 2000)).toBe("ok");
    expect(await checkSession(deps(), theirs, LOGIN + 2000)).toBe("ok");
    expect((await listOf().list(user.id, mine.sid, LOGIN + 2000)).map((s) => s.id)).toEqual([mine.sid]);
  });

  it("another device's session is not ended with a wrong password or without one, and the password is checked for that account", async () => {
    const user = await insertUser();
    const target = await startSession(handle.db, user, LOGIN);
    const mine = await startSession(handle.db, user, LOGIN);
    await expect(listOf().endOne(user.id, target.sid, asking(mine.sid, "a wrong password"), LOGIN + 1000)).resolves.toEqual({
      ok: false,
      reason: "invalid_credentials",
    });
    await expect(listOf().endOne(user.id, target.sid, asking(mine.sid, null), LOGIN + 1000)).resolves.toEqual({
      ok: false,
      reason: "invalid_credentials",
    });
    expect(passwordChecks).toEqual([user.id]);
    expect(await checkSession(deps(), target, LOGIN + 2000)).toBe("ok");
  });

  it("the session one is using ends without a password (that is a logout)", async () => {
    const user = await insertUser();
    const mine = await startSession(handle.db, user, LOGIN);
    await expect(listOf().endOne(user.id, mine.sid, asking(mine.sid, null), LOGIN + 1000)).resolves.toEqual({ ok: true });
    expect(passwordChecks).toEqual([]);
    expect(await checkSession(deps(), mine, LOGIN + 2000)).toBe("ended");
  });

  it("every other session is not ended with a wrong password; a refusal of the check (a rate limit) is passed on as it came", async () => {
    const user = await insertUser();
    const other = await startSession(handle.db, user, LOGIN);
    const mine = await startSession(handle.db, user, LOGIN);
    await expect(listOf().endOthers(user.id, asking(mine.sid, "a wrong password"), LOGIN + 1000)).resolves.toEqual({
      ok: false,
      reason: "invalid_credentials",
    });
    const limited = { ok: false as const, reason: "rate_limited" as const, retryAfterSeconds: 60 };
    const list = createSessionList({ ...deps(), confirmPassword: async () => limited });
    await expect(list.endOthers(user.id, asking(mine.sid), LOGIN + 1000)).resolves.toEqual(limited);
    expect(await checkSession(deps(), other, LOGIN + 2000)).toBe("ok");
  });
});

describe("describeUserAgent", () => {
  it.each([
    [CHROME_LINUX, "Chrome 130", "Linux"],
    [SAFARI_IPHONE, "Safari 18", "iOS"],
    [
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
      "Edge 131",
      "Windows",
    ],
    ["Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133", "macOS"],
    ["Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome 131", "Android"],
    [
      "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
      "Chrome 131",
      "iOS",
    ],
    ["", "Unknown browser", "Unknown system"],
  ])("reads %j as %s on %s", (ua, browser, system) => {
    expect(describeUserAgent(ua)).toEqual({ browser, system });
  });
});
