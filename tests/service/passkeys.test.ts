import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Database } from "@/db/client";
import { NO_PASSWORD, users, type User } from "@/db/schema";
import { wireServices } from "@/lib/platform/runtime";
import type { RelyingParty } from "@/lib/credentials/passkey-relying-party";
import { PASSKEY_CHALLENGE_TTL_MS, SIGN_IN_OPTIONS_PER_IP_PER_HOUR, type Passkeys } from "@/lib/credentials/passkeys";
import { MemoryCodeStore } from "@/lib/store/memory";
import { extractCode } from "@/testing/mailbox";
import { hashPassword } from "@/lib/credentials/passwords";
import { totpCodeAt } from "@/lib/credentials/totp";
import { checkSession, startSession } from "@/lib/sessions/sessions";
import { createUserAdministration } from "@/lib/staff/admin";
import { freshDatabase, insertUser, testConfig } from "@/testing/admin-fixtures";
import { assert, createCredential, type Ceremony, type SoftCredential } from "@/testing/soft-authenticator";
import { clientContexts } from "@/testing/people";
import { CapturingMailer } from "@/testing/service-harness";

/**
 * lib/credentials/passkeys.ts: adding a passkey and signing in with one, against a software authenticator
 * (testing/soft-authenticator.ts) that signs for whatever site it is told, so a phishing origin or a
 * cloned credential can be played.
 */

const rp: RelyingParty = { name: "Verified Signup", id: "localhost", origin: "http://localhost:3000" };
const here: Ceremony = { origin: rp.origin, rpId: rp.id };

let db: Database;
let close: () => void;
let store: MemoryCodeStore;
let mailer: CapturingMailer;
let passkeys: Passkeys;
let deps: Parameters<typeof wireServices>[0];
let user: User;
const ctx = clientContexts("198.51.100.");

beforeEach(async () => {
  vi.spyOn(console, "info").mockImplementation(() => {});
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.UTC(2030, 0, 15, 12, 0, 0));
  ({ db, close } = await freshDatabase("passkeys-test"));
  store = new MemoryCodeStore();
  mailer = new CapturingMailer();
  deps = { db, store, mailer, config: testConfig, now: () => Date.now() };
  passkeys = wireServices(deps).passkeys;
  user = await insertUser(db, { email: "ada@example.test" });
});

afterEach(() => {
  close();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

async function addPasskey(to: User = user, ceremony: Ceremony = here): Promise<SoftCredential> {
  const options = await passkeys.registrationOptions({ userId: to.id, mfa: false }, rp);
  if (!options.ok) throw new Error(`no options: ${options.reason}`);
  const { credential, response } = createCredential(options.options, ceremony);
  expect(await passkeys.addPasskey({ userId: to.id, mfa: false }, response, rp)).toMatchObject({ ok: true });
  return credential;
}

/** Sign-in options, which the tests always get (each from its own client IP unless told). */
async function signInOptions(context = ctx()) {
  const options = await passkeys.signInOptions(rp, context);
  if (!options) throw new Error("no sign-in options");
  return options;
}

async function signIn(credential: SoftCredential, ceremony: Ceremony & { signCount?: number } = here) {
  const options = await signInOptions();
  return passkeys.signIn(assert(credential, options.challenge, ceremony), rp, ctx());
}

describe("adding a passkey and signing in with it", () => {
  it("adds a passkey to a verified account, mails a notice, and signs in with it without an address, with the second factor proven", async () => {
    const credential = await addPasskey();
    expect(mailer.sent.map((m) => [m.to, m.subject])).toEqual([["ada@example.test", "A passkey was added to your Verified Signup account"]]);
    const [stored] = await passkeys.list(user.id);
    expect(stored).toMatchObject({ id: credential.id, backedUp: false, deviceType: "singleDevice", lastUsedAt: null });

    const result = await signIn(credential);
    expect(result).toMatchObject({ ok: true, mfa: true, user: { id: user.id } });
    expect((await passkeys.list(user.id))[0]!.lastUsedAt).toEqual(new Date(Date.now()));
  });

  it("asks the authenticator for a discoverable credential with user verification, and excludes the passkeys already added", async () => {
    const credential = await addPasskey();
    const again = await passkeys.registrationOptions({ userId: user.id, mfa: false }, rp);
    expect(again.ok && again.options.authenticatorSelection).toMatchObject({ residentKey: "required", userVerification: "required" });
    expect(again.ok && again.options.excludeCredentials?.map((c) => c.id)).toEqual([credential.id]);
    expect((await signInOptions()).userVerification).toBe("required");
  });

  it("refuses an authenticator that did not verify the person (no PIN or biometric), at registration and at sign-in", async () => {
    const options = await passkeys.registrationOptions({ userId: user.id, mfa: false }, rp);
    const { response } = createCredential(options.ok ? options.options : (undefined as never), { ...here, userVerified: false });
    expect(await passkeys.addPasskey({ userId: user.id, mfa: false }, response, rp)).toEqual({ ok: false, reason: "invalid" });
    const credential = await addPasskey();
    expect(await signIn(credential, { ...here, userVerified: false })).toEqual({ ok: false, reason: "invalid_credentials" });
  });

  it("never adds a passkey to an account whose address is not verified", async () => {
    const unverified = await insertUser(db, { email: "pending@example.test", verified: false, passwordHash: NO_PASSWORD });
    expect(await passkeys.registrationOptions({ userId: unverified.id, mfa: false }, rp)).toEqual({ ok: false, reason: "not_allowed" });
    // Not even with a challenge issued to a verified account and answered for this one.
    const options = await passkeys.registrationOptions({ userId: user.id, mfa: false }, rp);
    const { response } = createCredential(options.ok ? options.options : (undefined as never), here);
    expect(await passkeys.addPasskey({ userId: unverified.id, mfa: false }, response, rp)).toEqual({ ok: false, reason: "not_allowed" });
    expect(await passkeys.list(unverified.id)).toEqual([]);
  });

  it("refuses a passkey sign-in to an account that is deactivated", async () => {
    const credential = await addPasskey();
    await db.update(users).set({ isActive: false }).where(eq(users.id, user.id));
    expect(await signIn(credential)).toEqual({ ok: false, reason: "invalid_credentials" });
  });
});

describe("challenges", () => {
  it("a registration challenge works once: the same answer again is refused as expired", async () => {
    const options = await passkeys.registrationOptions({ userId: user.id, mfa: false }, rp);
    const { response } = createCredential(options.ok ? options.options : (undefined as never), here);
    expect(await passkeys.addPasskey({ userId: user.id, mfa: false }, response, rp)).toMatchObject({ ok: true });
    expect(await passkeys.addPasskey({ userId: user.id, mfa: false }, response, rp)).toEqual({ ok: false, reason: "expired" });
  });

  it("a sign-in challenge works once: a replayed assertion is refused, even with a higher counter", async () => {
    const credential = await addPasskey();
    const options = await signInOptions();
    expect(await passkeys.signIn(assert(credential, options.challenge, here), rp, ctx())).toMatchObject({ ok: true });
    expect(await passkeys.signIn(assert(credential, options.challenge, here), rp, ctx())).toEqual({ ok: false, reason: "expired" });
  });

  it("a wrong answer spends the challenge too: the right one afterwards is refused", async () => {
    const credential = await addPasskey();
    const options = await signInOptions();
    expect(await passkeys.signIn(assert(credential, options.challenge, { ...here, origin: "https://evil.example" }), rp, ctx())).toEqual({
      ok: false,
      reason: "invalid_credentials",
    });
    expect(await passkeys.signIn(assert(credential, options.challenge, here), rp, ctx())).toEqual({ ok: false, reason: "expired" });
  });

  it("a challenge expires after 5 minutes: 1 ms before, it works; at 5 minutes it is refused", async () => {
    const credential = await addPasskey();
    const early = await signInOptions();
    const late = await signInOptions();
    vi.setSystemTime(Date.now() + PASSKEY_CHALLENGE_TTL_MS - 1);
    expect(await passkeys.signIn(assert(credential, early.challenge, here), rp, ctx())).toMatchObject({ ok: true });
    vi.setSystemTime(Date.now() + 1);
    expect(await passkeys.signIn(assert(credential, late.challenge, here), rp, ctx())).toEqual({ ok: false, reason: "expired" });
    expect(PASSKEY_CHALLENGE_TTL_MS).toBe(5 * 60_000);
  });

  it("a challenge made up by the client, or one issued for signing in, does not add a passkey", async () => {
    const signInChallenge = (await signInOptions()).challenge;
    for (const challenge of ["bWFkZSB1cA", signInChallenge]) {
      const { response } = createCredential({ challenge, user: { id: "x" } }, here);
      expect(await passkeys.addPasskey({ userId: user.id, mfa: false }, response, rp)).toEqual({ ok: false, reason: "expired" });
    }
  });

  it("a registration challenge issued to one account does not add a passkey to another", async () => {
    const other = await insertUser(db, { email: "grace@example.test" });
    const options = await passkeys.registrationOptions({ userId: user.id, mfa: false }, rp);
    const { response } = createCredential(options.ok ? options.options : (undefined as never), here);
    expect(await passkeys.addPasskey({ userId: other.id, mfa: false }, response, rp)).toEqual({ ok: false, reason: "expired" });
  });

  it("sign-in options, which need no account, are limited per client IP: 300 an hour, then none from that IP", async () => {
    const ip = { ip: "192.0.2.99" };
    for (let i = 0; i < SIGN_IN_OPTIONS_PER_IP_PER_HOUR; i++) expect(await passkeys.signInOptions(rp, ip)).toBeDefined();
    expect(await passkeys.signInOptions(rp, ip)).toBeUndefined();
    expect(await passkeys.signInOptions(rp, ctx())).toBeDefined();
    vi.setSystemTime(Date.now() + 3600_000);
    expect(await passkeys.signInOptions(rp, ip)).toBeDefined();
  });

  it("the store holds a digest of the challenge, never the challenge itself", async () => {
    const spy = vi.spyOn(store, "writeValue");
    const { challenge } = await signInOptions();
    const [key, value] = spy.mock.calls[0]!;
    expect(`${key}${value}`).not.toContain(challenge);
  });
});

describe("origin and relying party", () => {
  it("refuses a registration answered on another origin or for another RP ID", async () => {
    for (const ceremony of [
      { ...here, origin: "https://evil.example" },
      { ...here, rpId: "evil.example" },
    ]) {
      const options = await passkeys.registrationOptions({ userId: user.id, mfa: false }, rp);
      const { response } = createCredential(options.ok ? options.options : (undefined as never), ceremony);
      expect(await passkeys.addPasskey({ userId: user.id, mfa: false }, response, rp)).toEqual({ ok: false, reason: "invalid" });
    }
    expect(await passkeys.list(user.id)).toEqual([]);
  });

  it("refuses a sign-in signed on another origin or for another RP ID", async () => {
    const credential = await addPasskey();
    expect(await signIn(credential, { ...here, origin: "https://evil.example" })).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await signIn(credential, { ...here, rpId: "evil.example" })).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await signIn(credential)).toMatchObject({ ok: true });
  });
});

describe("counters", () => {
  it("refuses a cloned credential that reports a count not above the last one seen, and keeps the count", async () => {
    const credential = await addPasskey();
    expect(await signIn(credential)).toMatchObject({ ok: true });
    expect(await signIn(credential)).toMatchObject({ ok: true });
    // The clone was copied when the count was 1.
    expect(await signIn(credential, { ...here, signCount: 2 })).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await signIn(credential, { ...here, signCount: 1 })).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await signIn(credential, { ...here, signCount: 3 })).toMatchObject({ ok: true });
  });
});

describe("login limits", () => {
  it("failed passkey sign-ins count on the account's login failures: after the limit even the right passkey is refused", async () => {
    const credential = await addPasskey();
    for (let i = 0; i < testConfig.limits.loginFailuresPerAccount; i++) {
      expect(await signIn(credential, { ...here, origin: "https://evil.example" })).toEqual({ ok: false, reason: "invalid_credentials" });
    }
    expect(await signIn(credential)).toMatchObject({ ok: false, reason: "rate_limited" });
  });

  it("failed passkey sign-ins from one IP count on that IP's login failures, unknown passkeys too: after the limit even a right passkey from it is refused", async () => {
    const credential = await addPasskey();
    const stranger = createCredential({ challenge: "x", user: { id: "nobody" } }, here).credential;
    const ip = { ip: "192.0.2.7" };
    for (let i = 0; i < testConfig.limits.loginFailuresPerIp; i++) {
      const options = await signInOptions();
      expect(await passkeys.signIn(assert(stranger, options.challenge, here), rp, ip)).toEqual({ ok: false, reason: "invalid_credentials" });
    }
    const options = await signInOptions();
    expect(await passkeys.signIn(assert(credential, options.challenge, here), rp, ip)).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(await signIn(credential)).toMatchObject({ ok: true });
  });

  it("a passkey sign-in clears the account's earlier failures, as a right password does", async () => {
    const credential = await addPasskey();
    for (let i = 0; i < testConfig.limits.loginFailuresPerAccount - 1; i++) await signIn(credential, { ...here, rpId: "evil.example" });
    expect(await signIn(credential)).toMatchObject({ ok: true });
    for (let i = 0; i < testConfig.limits.loginFailuresPerAccount - 1; i++) await signIn(credential, { ...here, rpId: "evil.example" });
    expect(await signIn(credential)).toMatchObject({ ok: true });
  });
});

describe("staff and admin", () => {
  it("adding a passkey needs a session opened with the second factor; a passkey sign-in then proves it", async () => {
    const staff = await insertUser(db, { email: "ops@example.test", role: "staff" });
    expect(await passkeys.registrationOptions({ userId: staff.id, mfa: false }, rp)).toEqual({ ok: false, reason: "second_factor_required" });
    const options = await passkeys.registrationOptions({ userId: staff.id, mfa: true }, rp);
    const { credential, response } = createCredential(options.ok ? options.options : (undefined as never), here);
    expect(await passkeys.addPasskey({ userId: staff.id, mfa: true }, response, rp)).toMatchObject({ ok: true });
    expect(await signIn(credential)).toMatchObject({ ok: true, mfa: true, user: { id: staff.id, role: "staff" } });
  });
});

describe("a password-only session cannot become a passkey that skips the second factor", () => {
  const PASSWORD = "correct horse battery staple";

  const withPassword = async () => insertUser(db, { email: "totp@example.test", passwordHash: await hashPassword(PASSWORD) });

  /** Turns TOTP on as /account does: the password, then the app's code and the mailed code. */
  async function turnTotpOn(who: User): Promise<void> {
    const twoFactor = wireServices(deps).ownSecondFactor;
    const started = await twoFactor.start(who.id, PASSWORD, ctx());
    if (!started.ok) throw new Error(`start refused: ${started.reason}`);
    const emailCode = extractCode({ text: mailer.sent.at(-1)!.text });
    expect(await twoFactor.confirm(who.id, { code: totpCodeAt(started.enrolment.secret, Date.now()), emailCode }, ctx())).toMatchObject({ ok: true });
  }

  it("turning TOTP on ends every session opened before it: a stolen password-only session stops working", async () => {
    const ada = await withPassword();
    const stolen = await startSession(db, { id: ada.id, sessionVersion: ada.sessionVersion }, Date.now());
    const check = () => checkSession({ db, store, config: testConfig.auth }, stolen, Date.now());
    expect(await check()).toBe("ok");
    await turnTotpOn(ada);
    expect(await check()).toBe("ended");
  });

  it("once TOTP is on, a session without the second factor cannot add a passkey", async () => {
    const ada = await withPassword();
    await turnTotpOn(ada);
    expect(await passkeys.registrationOptions({ userId: ada.id, mfa: false }, rp)).toEqual({ ok: false, reason: "second_factor_required" });
    // Nor with a challenge a session with the second factor asked for.
    const options = await passkeys.registrationOptions({ userId: ada.id, mfa: true }, rp);
    const { response } = createCredential(options.ok ? options.options : (undefined as never), here);
    expect(await passkeys.addPasskey({ userId: ada.id, mfa: false }, response, rp)).toEqual({ ok: false, reason: "second_factor_required" });
    expect(await passkeys.list(ada.id)).toEqual([]);
    // With it, it can.
    const again = await passkeys.registrationOptions({ userId: ada.id, mfa: true }, rp);
    const added = createCredential(again.ok ? again.options : (undefined as never), here);
    expect(await passkeys.addPasskey({ userId: ada.id, mfa: true }, added.response, rp)).toMatchObject({ ok: true });
  });

  it("a passkey a customer added from a password-only session is removed when an admin makes the account staff, and no longer signs in", async () => {
    const credential = await addPasskey();
    const boss = await insertUser(db, { email: "boss@example.test", role: "admin" });
    const admin = createUserAdministration({ db, store, now: () => Date.now() });
    const promoted = await admin.changeRole(boss, user.id, "staff");
    expect(await passkeys.list(user.id)).toEqual([]);
    expect(promoted).toMatchObject({ ok: true, passkeysRemoved: 1 });
    expect(await signIn(credential)).toEqual({ ok: false, reason: "invalid_credentials" });
  });
});

describe("rename and remove", () => {
  it("renames only the account's own passkey", async () => {
    const credential = await addPasskey();
    const other = await insertUser(db, { email: "grace@example.test" });
    expect(await passkeys.rename(other.id, credential.id, "Mine now")).toBe(false);
    expect(await passkeys.rename(user.id, credential.id, "Work laptop")).toBe(true);
    expect((await passkeys.list(user.id)).map((p) => p.name)).toEqual(["Work laptop"]);
  });

  it("keeps the last way in: an account without a password cannot remove its only passkey, but can once it has another", async () => {
    const codeOnly = await insertUser(db, { email: "nopass@example.test", passwordHash: NO_PASSWORD });
    const first = await addPasskey(codeOnly);
    expect(await passkeys.remove(codeOnly.id, first.id)).toEqual({ ok: false, reason: "last_way_in" });
    expect(await passkeys.list(codeOnly.id)).toHaveLength(1);
    const second = await addPasskey(codeOnly);
    expect(await passkeys.remove(codeOnly.id, first.id)).toEqual({ ok: true });
    expect(await passkeys.remove(codeOnly.id, second.id)).toEqual({ ok: false, reason: "last_way_in" });
    expect(await signIn(second)).toMatchObject({ ok: true });
  });

  it("two removals racing for an account's last two passkeys (no password): one wins, one passkey stays", async () => {
    const codeOnly = await insertUser(db, { email: "nopass@example.test", passwordHash: NO_PASSWORD });
    const [a, b] = [await addPasskey(codeOnly), await addPasskey(codeOnly)];
    const outcomes = await Promise.all([passkeys.remove(codeOnly.id, a.id), passkeys.remove(codeOnly.id, b.id)]);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(await passkeys.list(codeOnly.id)).toHaveLength(1);
  });

  it("an account with a password removes its only passkey, is mailed a notice, and the passkey no longer signs in", async () => {
    const credential = await addPasskey();
    expect(await passkeys.remove(user.id, credential.id)).toEqual({ ok: true });
    expect(mailer.sent.at(-1)).toMatchObject({ to: "ada@example.test", subject: "A passkey was removed from your Verified Signup account" });
    expect(await signIn(credential)).toEqual({ ok: false, reason: "invalid_credentials" });
  });

  it("cannot remove another account's passkey", async () => {
    const credential = await addPasskey();
    const other = await insertUser(db, { email: "grace@example.test" });
    expect(await passkeys.remove(other.id, credential.id)).toEqual({ ok: false, reason: "not_found" });
    expect(await passkeys.list(user.id)).toHaveLength(1);
  });
});

describe("the offer after verification", () => {
  it("is shown once", async () => {
    expect(await passkeys.takeOffer(user.id)).toBe(false);
    await passkeys.offerAfterVerification(user.id);
    expect(await passkeys.takeOffer(user.id)).toBe(true);
    expect(await passkeys.takeOffer(user.id)).toBe(false);
  });
});
