import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Database } from "@/db/client";
import type { User } from "@/db/schema";
import { findUserById } from "@/db/users";
import { insertPasskey, listPasskeys } from "@/db/passkeys";
import {
  canManageUsers,
  createUserAdministration,
  decideAdminAccess,
  listUsers,
  parseUserListQuery,
  userListSearch,
  USERS_PAGE_SIZE,
  type UserAdministration,
} from "@/lib/staff/admin";
import { setAuthEventSink, type AuthEvent, type AuthEventFields } from "@/lib/platform/log";
import { checkSession, startSession } from "@/lib/sessions/sessions";
import { MemoryCodeStore } from "@/lib/store/memory";
import { freshDatabase, insertUser, testConfig } from "@/testing/admin-fixtures";

describe("who may open /admin", () => {
  const active = { role: "staff" as const, isActive: true };
  it("needs a session", () => {
    expect(decideAdminAccess(null, active, true)).toEqual({ kind: "sign_in" });
    expect(decideAdminAccess({ role: "staff", mfa: true }, undefined, true)).toEqual({ kind: "sign_in" });
    expect(decideAdminAccess({ role: "staff", mfa: true }, { role: "staff", isActive: false }, true)).toEqual({ kind: "sign_in" });
  });
  it("refuses customers, also when the token still says staff but the database no longer does", () => {
    expect(decideAdminAccess({ role: "customer", mfa: false }, { role: "customer", isActive: true }, false)).toEqual({ kind: "forbidden" });
    expect(decideAdminAccess({ role: "staff", mfa: true }, { role: "customer", isActive: true }, true)).toEqual({ kind: "forbidden" });
  });
  it("needs a session opened with the second factor: enrol first, or log in again with the code", () => {
    expect(decideAdminAccess({ role: "staff", mfa: false }, active, false)).toEqual({ kind: "enrol" });
    expect(decideAdminAccess({ role: "admin", mfa: false }, { role: "admin", isActive: true }, true)).toEqual({ kind: "reauthenticate" });
    expect(decideAdminAccess({ role: "admin", mfa: true }, { role: "admin", isActive: true }, true)).toEqual({ kind: "ok" });
    expect(decideAdminAccess({ role: "staff", mfa: true }, active, true)).toEqual({ kind: "ok" });
  });
  it("only admins manage users; staff look", () => {
    expect(canManageUsers("admin")).toBe(true);
    expect(canManageUsers("staff")).toBe(false);
    expect(canManageUsers("customer")).toBe(false);
  });
});

describe("the users list query", () => {
  it("parses search parameters, falling back to defaults for anything unknown", () => {
    expect(parseUserListQuery({})).toEqual({ q: "", verified: "all", role: "all", sort: "created_desc", page: 1 });
    expect(parseUserListQuery({ q: "  Ada@EX ", verified: "unverified", role: "staff", sort: "created_asc", page: "3" })).toEqual({
      q: "ada@ex",
      verified: "unverified",
      role: "staff",
      sort: "created_asc",
      page: 3,
    });
    expect(parseUserListQuery({ verified: "maybe", role: "root", sort: "name", page: "-2", q: ["a", "b"] })).toEqual(parseUserListQuery({}));
  });
  it("writes the query back as search parameters, defaults left out", () => {
    const query = parseUserListQuery({ q: "ada", role: "admin", page: "2" });
    expect(userListSearch(query)).toBe("?q=ada&role=admin&page=2");
    expect(userListSearch(query, { page: 1 })).toBe("?q=ada&role=admin");
    expect(userListSearch(parseUserListQuery({}))).toBe("");
  });
});

describe("listUsers and the admin actions", () => {
  let db: Database;
  let close: () => void;
  let store: MemoryCodeStore;
  let admin: UserAdministration;
  let boss: User;
  let events: Array<[AuthEvent, AuthEventFields]>;
  const base = Date.UTC(2030, 0, 1);

  beforeEach(async () => {
    vi.spyOn(console, "info").mockImplementation(() => {});
    ({ db, close } = await freshDatabase("admin-test"));
    store = new MemoryCodeStore();
    admin = createUserAdministration({ db, store });
    boss = await insertUser(db, { email: "boss@example.test", role: "admin", createdAt: new Date(base) });
    events = [];
    setAuthEventSink((event, fields) => events.push([event, fields]));
  });
  afterEach(() => {
    setAuthEventSink(undefined);
    close();
    vi.restoreAllMocks();
  });

  it("searches by email (with % and _ taken literally), filters by verified and role, sorts by created, pages", async () => {
    for (let i = 0; i < 25; i++) {
      await insertUser(db, { email: `person${String(i).padStart(2, "0")}@example.test`, verified: i % 2 === 0, createdAt: new Date(base + (i + 1) * 1000) });
    }
    await insertUser(db, { email: "under_score@other.test", role: "staff", createdAt: new Date(base + 100_000) });

    const all = await listUsers(db, parseUserListQuery({}));
    expect(all.total).toBe(27);
    expect(all.pages).toBe(2);
    expect(all.rows).toHaveLength(USERS_PAGE_SIZE);
    expect(all.rows[0]!.email).toBe("under_score@other.test"); // newest first

    const oldest = await listUsers(db, parseUserListQuery({ sort: "created_asc" }));
    expect(oldest.rows.slice(0, 2).map((r) => r.email)).toEqual(["boss@example.test", "person00@example.test"]);

    const second = await listUsers(db, parseUserListQuery({ page: "2" }));
    expect(second.rows).toHaveLength(7);
    // A page past the end shows the last page.
    expect((await listUsers(db, parseUserListQuery({ page: "99" }))).page).toBe(2);

    expect((await listUsers(db, parseUserListQuery({ q: "PERSON1" }))).total).toBe(10);
    expect((await listUsers(db, parseUserListQuery({ q: "_" }))).rows.map((r) => r.email)).toEqual(["under_score@other.test"]);
    expect((await listUsers(db, parseUserListQuery({ q: "%" }))).total).toBe(0);
    expect((await listUsers(db, parseUserListQuery({ verified: "unverified" }))).total).toBe(12);
    expect((await listUsers(db, parseUserListQuery({ verified: "verified", q: "person" }))).total).toBe(13);
    expect((await listUsers(db, parseUserListQuery({ role: "staff" }))).rows.map((r) => r.email)).toEqual(["under_score@other.test"]);
    expect((await listUsers(db, parseUserListQuery({ role: "admin" }))).rows.map((r) => r.email)).toEqual(["boss@example.test"]);
  });

  /** A session of `user` as it stands now: checkSession says whether it still works. */
  const sessionOf = (user: User) => startSession(db, { id: user.id, sessionVersion: user.sessionVersion }, Date.now());
  const check = (claims: Awaited<ReturnType<typeof sessionOf>>) => checkSession({ db, store, config: testConfig.auth }, claims, Date.now());

  it("a role change ends that person's sessions on their next request, and is recorded with who did it", async () => {
    const customer = await insertUser(db, { email: "c@example.test" });
    const session = await sessionOf(customer);
    expect(await check(session)).toBe("ok");
    const result = await admin.changeRole(boss, customer.id, "staff");
    expect(result).toMatchObject({ ok: true, user: { role: "staff", sessionVersion: customer.sessionVersion + 1 } });
    expect(await check(session)).toBe("ended");
    expect(events).toContainEqual(["role_changed", { userId: customer.id, actorId: boss.id, from: "customer", to: "staff" }]);
  });

  it("making a customer staff or admin removes its passkeys (added without a second factor); staff to admin keeps them", async () => {
    const passkey = {
      publicKey: "pk",
      counter: 0,
      transports: "[]",
      deviceType: "singleDevice" as const,
      backedUp: false,
      name: "Laptop",
      createdAt: new Date(),
    };
    const customer = await insertUser(db, { email: "c@example.test" });
    await insertPasskey(db, { ...passkey, id: "cred-c", userId: customer.id });
    expect(await admin.changeRole(boss, customer.id, "admin")).toMatchObject({ ok: true, passkeysRemoved: 1 });
    expect(await listPasskeys(db, customer.id)).toEqual([]);
    expect(events).toContainEqual(["passkeys_removed", { userId: customer.id, actorId: boss.id, count: 1 }]);
    const staff = await insertUser(db, { email: "s@example.test", role: "staff" });
    await insertPasskey(db, { ...passkey, id: "cred-s", userId: staff.id });
    expect(await admin.changeRole(boss, staff.id, "admin")).toMatchObject({ ok: true, passkeysRemoved: 0 });
    expect(await listPasskeys(db, staff.id)).toHaveLength(1);
  });

  it("deactivation ends the sessions; reactivation is for verified accounts only", async () => {
    const customer = await insertUser(db, { email: "c@example.test" });
    const session = await sessionOf(customer);
    expect(await admin.setActive(boss, customer.id, false)).toMatchObject({ ok: true, user: { isActive: false } });
    expect(await check(session)).toBe("ended");
    expect(await admin.setActive(boss, customer.id, false)).toEqual({ ok: false, reason: "unchanged" });
    expect(await admin.setActive(boss, customer.id, true)).toMatchObject({ ok: true, user: { isActive: true } });
    const unverified = await insertUser(db, { email: "u@example.test", verified: false });
    expect(await admin.setActive(boss, unverified.id, true)).toEqual({ ok: false, reason: "unverified" });
    expect(await admin.changeRole(boss, unverified.id, "staff")).toEqual({ ok: false, reason: "unverified" });
    expect(events.map(([e]) => e)).toEqual(["account_deactivated", "account_reactivated"]);
  });

  it("sign out everywhere ends every session and changes nothing else", async () => {
    const customer = await insertUser(db, { email: "c@example.test" });
    const sessions = [await sessionOf(customer), await sessionOf(customer)];
    expect(await admin.signOutEverywhere(boss, customer.id)).toMatchObject({ ok: true, user: { role: "customer", isActive: true } });
    for (const session of sessions) expect(await check(session)).toBe("ended");
    expect(events).toEqual([["sessions_revoked", { userId: customer.id, actorId: boss.id }]]);
  });

  it("an admin cannot demote or deactivate themselves; staff cannot change anything", async () => {
    expect(await admin.changeRole(boss, boss.id, "customer")).toEqual({ ok: false, reason: "self" });
    expect(await admin.setActive(boss, boss.id, false)).toEqual({ ok: false, reason: "self" });
    expect((await findUserById(db, boss.id))!).toMatchObject({ role: "admin", isActive: true, sessionVersion: boss.sessionVersion });

    const staff = await insertUser(db, { email: "s@example.test", role: "staff" });
    const customer = await insertUser(db, { email: "c@example.test" });
    expect(await admin.changeRole(staff, customer.id, "admin")).toEqual({ ok: false, reason: "not_allowed" });
    expect(await admin.setActive(staff, customer.id, false)).toEqual({ ok: false, reason: "not_allowed" });
    expect(await admin.signOutEverywhere(staff, customer.id)).toEqual({ ok: false, reason: "not_allowed" });
    expect(await admin.changeRole(boss, "no-such-id", "staff")).toEqual({ ok: false, reason: "not_found" });
    expect(events).toEqual([]);
  });
});
