import "server-only";
import { createHash } from "node:crypto";
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { countPasskeys, findPasskey, insertPasskey, listPasskeys, recordPasskeyUse, removePasskeyKeepingAWayIn, renamePasskey } from "@/db/passkeys";
import type { Passkey, User } from "@/db/schema";
import { findUserById } from "@/db/users";
import type { AccountDependencies, SharedParts } from "../accounts/accounts";
import { ipKey, ipLimit, loginAccountLimits } from "../codes/limits";
import { logAuthEvent } from "../platform/log";
import type { RelyingParty } from "./passkey-relying-party";
import type { RateLimited, RequestContext } from "../accounts/results";
import { needsSecondFactor } from "./totp";

type WebAuthn = typeof import("@simplewebauthn/server") & typeof import("@simplewebauthn/server/helpers");
let loading: Promise<WebAuthn> | undefined;

/**
 * SimpleWebAuthn and its ASN.1 and CBOR stack (about 1 MB of code) load with the first passkey ceremony, not with
 * the services every signup and login starts (measured by `npm run bench`, cold phase).
 */
function webauthn(): Promise<WebAuthn> {
  loading ??= Promise.all([import("@simplewebauthn/server"), import("@simplewebauthn/server/helpers")]).then(([server, helpers]) => ({
    ...server,
    ...helpers,
  }));
  return loading;
}

/**
 * Passkeys (WebAuthn) for every verified account: adding one while signed in, signing in with one (discoverable
 * credentials, so no address is typed), and keeping at least one way in. Each ceremony's challenge is one-use: it
 * waits in the code store under a digest of itself and is taken (read and deleted at once) by the answer to it,
 * whatever that answer turns out to be. User verification is required, so a passkey is a multi-factor
 * authenticator on its own (possession, plus the PIN or biometric that unlocks it): for staff and admin a
 * passkey sign-in counts as the second factor.
 */

/** How long a ceremony may take, from the options to the answer. */
export const PASSKEY_CHALLENGE_TTL_MS = 5 * 60_000;
/** After verification, the passkey offer waits this long for the account's first visit to /account. */
const OFFER_TTL_MS = 30 * 24 * 3600_000;
const MAX_PASSKEYS = 20;
/**
 * Sign-in options need no account, and each leaves a challenge in the store for 5 minutes: one client IP may ask
 * this many an hour (every login page load asks once, for the autofill).
 */
export const SIGN_IN_OPTIONS_PER_IP_PER_HOUR = 300;
/**
 * EdDSA, ES256, RS256: what authenticators offer today. Named here rather than left to the library, whose default
 * probes Node's experimental Web Crypto (a warning in every server log) for post-quantum algorithms.
 */
const ALGORITHMS = [-8, -7, -257];

export type PasskeySummary = Pick<Passkey, "id" | "name" | "createdAt" | "lastUsedAt" | "backedUp" | "deviceType">;

/** Who is asking to add a passkey: the signed-in user, and whether their session was opened with a second factor. */
export interface PasskeyOwner {
  userId: string;
  mfa: boolean;
}

type NotAllowed = { ok: false; reason: "not_allowed" | "second_factor_required" | "too_many" };

export type AddPasskeyResult =
  | { ok: true; passkey: PasskeySummary }
  | NotAllowed
  /** expired: the challenge was used, had expired, or was never this account's. */
  | { ok: false; reason: "expired" | "invalid" | "already_added" };

export type PasskeySignInResult = { ok: true; user: User; mfa: true } | { ok: false; reason: "invalid_credentials" | "expired" | "locked" } | RateLimited;

export type RemovePasskeyResult = { ok: true } | { ok: false; reason: "last_way_in" | "not_found" };

export function createPasskeys(deps: AccountDependencies, parts: SharedParts) {
  const { db, store, config } = deps;
  const now = deps.now ?? Date.now;
  const { codes, loginAttempts, secondFactor } = parts;

  /**
   * A verified, active account may add a passkey; staff and admin, and any account with TOTP on, only from a
   * session opened with the second factor.
   */
  async function owner(who: PasskeyOwner): Promise<{ ok: true; user: User } | NotAllowed> {
    const user = await findUserById(db, who.userId);
    if (!user || !user.isActive || !user.emailVerifiedAt) return { ok: false, reason: "not_allowed" };
    // Otherwise a stolen password (or a session opened with one) could add a passkey, and a passkey sign-in
    // counts as the second factor: it would outlive a password change and skip the TOTP.
    if (!who.mfa && (needsSecondFactor(user.role) || (await secondFactor.isEnabled(user.id)))) return { ok: false, reason: "second_factor_required" };
    return { ok: true, user };
  }

  async function registrationOptions(who: PasskeyOwner, rp: RelyingParty): Promise<{ ok: true; options: PublicKeyCredentialCreationOptionsJSON } | NotAllowed> {
    const allowed = await owner(who);
    if (!allowed.ok) return allowed;
    const { user } = allowed;
    const existing = await listPasskeys(db, user.id);
    if (existing.length >= MAX_PASSKEYS) return { ok: false, reason: "too_many" };
    const { generateRegistrationOptions, isoUint8Array } = await webauthn();
    const options = await generateRegistrationOptions({
      rpName: rp.name,
      rpID: rp.id,
      userName: user.email,
      userDisplayName: user.name || user.email,
      // The account id is random and says nothing about the person; the same handle for all its passkeys lets an
      // authenticator replace its own earlier one.
      userID: isoUint8Array.fromUTF8String(user.id),
      attestationType: "none",
      excludeCredentials: existing.map((p) => ({ id: p.id, transports: JSON.parse(p.transports) as string[] })),
      authenticatorSelection: { residentKey: "required", userVerification: "required" },
      timeout: PASSKEY_CHALLENGE_TTL_MS,
      supportedAlgorithmIDs: ALGORITHMS,
    });
    await store.writeValue(challengeKey(options.challenge), `register:${user.id}`, PASSKEY_CHALLENGE_TTL_MS);
    return { ok: true, options };
  }

  async function addPasskey(who: PasskeyOwner, response: unknown, rp: RelyingParty): Promise<AddPasskeyResult> {
    const lib = await webauthn();
    const challenge = challengeOf(lib, response);
    // Taken before anything else is decided: an answer spends its challenge, right or wrong.
    const issuedFor = challenge ? await store.takeValue(challengeKey(challenge)) : null;
    const allowed = await owner(who);
    if (!allowed.ok) return allowed;
    const { user } = allowed;
    if (!challenge || issuedFor !== `register:${user.id}`) return refusedAdd(user.id, "expired");
    let info;
    try {
      const verification = await lib.verifyRegistrationResponse({
        response: response as RegistrationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.id,
        requireUserVerification: true,
        supportedAlgorithmIDs: ALGORITHMS,
      });
      if (!verification.verified) return refusedAdd(user.id, "invalid");
      info = verification.registrationInfo;
    } catch {
      return refusedAdd(user.id, "invalid");
    }
    if ((await countPasskeys(db, user.id)) >= MAX_PASSKEYS) return { ok: false, reason: "too_many" };
    const at = new Date(now());
    const row = {
      id: info.credential.id,
      userId: user.id,
      publicKey: lib.isoBase64URL.fromBuffer(info.credential.publicKey),
      counter: info.credential.counter,
      transports: JSON.stringify(info.credential.transports ?? []),
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      name: defaultName(at),
      createdAt: at,
    };
    if (!(await insertPasskey(db, row))) return refusedAdd(user.id, "already_added");
    logAuthEvent("passkey_added", { userId: user.id, backedUp: row.backedUp, deviceType: row.deviceType });
    await codes.notify("passkey_added", user.email);
    return { ok: true, passkey: summary({ ...row, lastUsedAt: null }) };
  }

  function refusedAdd(userId: string, reason: "expired" | "invalid" | "already_added"): AddPasskeyResult {
    logAuthEvent("passkey_add_failed", { userId, reason });
    return { ok: false, reason };
  }

  /** Options for a sign-in by any passkey of this site: the browser offers the ones it holds (no address needed). */
  async function signInOptions(rp: RelyingParty, context: RequestContext): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
    const rule = { key: `limit:ip:${ipKey(context.ip)}:passkey-options`, limit: SIGN_IN_OPTIONS_PER_IP_PER_HOUR, windowMs: 3600_000 };
    if (!(await store.limits("hit", [rule])).allowed) return undefined;
    const { generateAuthenticationOptions } = await webauthn();
    const options = await generateAuthenticationOptions({ rpID: rp.id, userVerification: "required", timeout: PASSKEY_CHALLENGE_TTL_MS });
    await store.writeValue(challengeKey(options.challenge), "sign_in", PASSKEY_CHALLENGE_TTL_MS);
    return options;
  }

  /**
   * A sign-in within the same login limits as a password: every attempt counts on the client's IP, and once the
   * passkey names an account, on that account too, before the signature is checked; a success clears them as a
   * right password does.
   */
  async function signIn(response: unknown, rp: RelyingParty, context: RequestContext): Promise<PasskeySignInResult> {
    const lib = await webauthn();
    const challenge = challengeOf(lib, response);
    const issuedFor = challenge ? await store.takeValue(challengeKey(challenge)) : null;
    const credentialId = credentialIdOf(response);
    const passkey = credentialId ? await findPasskey(db, credentialId) : undefined;
    const user = passkey ? await findUserById(db, passkey.userId) : undefined;
    const ip = ipLimit(config, "login-fail", context.ip);
    const account = user ? loginAccountLimits(config, codes.idOf(user.email)) : undefined;
    const check = await store.limits("hit", account ? [account.window, account.consecutive, ip] : [ip]);
    if (!check.allowed) return loginAttempts.loginRefusal(check.retryAfterMs);
    if (!challenge || issuedFor !== "sign_in") {
      logAuthEvent("login_failed", { userId: user?.id, reason: "passkey_challenge" });
      return { ok: false, reason: "expired" };
    }
    if (!passkey || !user || !user.isActive || !user.emailVerifiedAt || !handleMatches(lib, response, user.id)) {
      logAuthEvent("login_failed", { userId: user?.id, reason: !passkey ? "unknown_passkey" : "passkey_account" });
      return { ok: false, reason: "invalid_credentials" };
    }
    let info;
    try {
      const verification = await lib.verifyAuthenticationResponse({
        response: response as AuthenticationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.id,
        credential: {
          id: passkey.id,
          publicKey: lib.isoBase64URL.toBuffer(passkey.publicKey),
          counter: passkey.counter,
          transports: JSON.parse(passkey.transports) as string[],
        },
        requireUserVerification: true,
      });
      if (!verification.verified) throw new Error("not verified");
      info = verification.authenticationInfo;
    } catch (error) {
      const counter = /counter/i.test(String((error as Error)?.message));
      logAuthEvent(counter ? "passkey_counter_refused" : "login_failed", { userId: user.id, reason: counter ? "stale_counter" : "passkey_signature" });
      return { ok: false, reason: "invalid_credentials" };
    }
    // The counter moves forward in the same statement that checks it: of two answers with one count, one wins.
    const recorded = await recordPasskeyUse(db, passkey.id, {
      counter: info.newCounter,
      backedUp: info.credentialBackedUp,
      deviceType: info.credentialDeviceType,
      at: new Date(now()),
    });
    if (!recorded) {
      logAuthEvent("passkey_counter_refused", { userId: user.id, reason: "stale_counter" });
      return { ok: false, reason: "invalid_credentials" };
    }
    logAuthEvent("login_ok", { userId: user.id, method: "passkey" });
    await loginAttempts.settleLogin(user.email, context);
    return { ok: true, user, mfa: true };
  }

  async function list(userId: string): Promise<PasskeySummary[]> {
    return (await listPasskeys(db, userId)).map(summary);
  }

  async function rename(userId: string, id: string, name: string): Promise<boolean> {
    const renamed = await renamePasskey(db, userId, id, name);
    if (renamed) logAuthEvent("passkey_renamed", { userId });
    return renamed;
  }

  async function remove(userId: string, id: string): Promise<RemovePasskeyResult> {
    const outcome = await removePasskeyKeepingAWayIn(db, userId, id);
    if (outcome !== "removed") return { ok: false, reason: outcome };
    logAuthEvent("passkey_removed", { userId });
    const user = await findUserById(db, userId);
    if (user) await codes.notify("passkey_removed", user.email);
    return { ok: true };
  }

  /** Verification just made this account: the next /account visit offers a passkey, once. */
  async function offerAfterVerification(userId: string): Promise<void> {
    await store.writeValue(offerKey(userId), "1", OFFER_TTL_MS);
  }

  async function takeOffer(userId: string): Promise<boolean> {
    return (await store.takeValue(offerKey(userId))) !== null;
  }

  return { registrationOptions, addPasskey, signInOptions, signIn, list, rename, remove, offerAfterVerification, takeOffer };
}

export type Passkeys = ReturnType<typeof createPasskeys>;

// The store holds a digest of the challenge, which is all a lookup needs.
function challengeKey(challenge: string): string {
  return `passkey:challenge:${createHash("sha256").update(challenge).digest("base64url")}`;
}

function offerKey(userId: string): string {
  return `passkey:offer:${userId}`;
}

function defaultName(at: Date): string {
  return `Passkey added ${at.toISOString().slice(0, 10)}`;
}

function summary(p: Passkey): PasskeySummary {
  return { id: p.id, name: p.name, createdAt: p.createdAt, lastUsedAt: p.lastUsedAt, backedUp: p.backedUp, deviceType: p.deviceType };
}

/** The challenge the browser signed, read from the answer's clientDataJSON; undefined for anything malformed. */
function challengeOf(lib: WebAuthn, response: unknown): string | undefined {
  const clientData = (response as { response?: { clientDataJSON?: unknown } } | null)?.response?.clientDataJSON;
  if (typeof clientData !== "string" || clientData.length > 4096) return undefined;
  try {
    const challenge = lib.decodeClientDataJSON(clientData).challenge;
    return typeof challenge === "string" && challenge.length > 0 && challenge.length <= 512 ? challenge : undefined;
  } catch {
    return undefined;
  }
}

function credentialIdOf(response: unknown): string | undefined {
  const id = (response as { id?: unknown } | null)?.id;
  return typeof id === "string" && id.length > 0 && id.length <= 1024 ? id : undefined;
}

/** A discoverable credential names its account (the user handle): it must be the account the passkey belongs to. */
function handleMatches(lib: WebAuthn, response: unknown, userId: string): boolean {
  const handle = (response as { response?: { userHandle?: unknown } })?.response?.userHandle;
  if (handle === undefined || handle === null) return true;
  return typeof handle === "string" && handle === lib.isoBase64URL.fromUTF8String(userId);
}
