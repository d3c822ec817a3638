import { randomUUID } from "node:crypto";
import type { Database } from "@/db/client";
import type { User } from "@/db/schema";
import { activateUser, findUserByEmail, insertInactiveCustomer } from "@/db/users";
import { codeKey, generateCode, hashCode, type CodePurpose } from "./codes";
import type { AppConfig } from "./config";
import { logAuthEvent } from "./log";
import { MailDeliveryError, type Mailer } from "./mail/mailer";
import { verificationCodeMessage } from "./mail/messages";
import { burnPasswordCheck, hashPassword, verifyPassword } from "./passwords";
import type { LoginInput, RegisterInput, VerifyInput } from "./schemas";
import type { CodeStore } from "./store/code-store";

/**
 * The rules of signup, verification and login, in one place. Server actions, the JSON API and Auth.js's
 * authorize() only adapt these typed results. Expected outcomes are results; only outages throw
 * (StoreUnavailableError), which the adapters answer with 503.
 */

export interface AccountDependencies {
  db: Database;
  store: CodeStore;
  mailer: Mailer;
  config: Pick<AppConfig, "appName" | "codes">;
  now?: () => number;
}

/** "sent": a code is on its way (or, for an address we must not reveal, the same answer is given). */
export type Delivery = "sent" | "failed";

export type RegisterResult = { ok: true; email: string; delivery: Delivery };

export type VerifyResult =
  | { ok: true; user: User }
  | { ok: false; reason: "wrong_code" | "expired" | "used" | "too_many_attempts" };

export type ResendResult =
  | { ok: true; email: string; delivery: Delivery }
  | { ok: false; reason: "rate_limited"; retryAfterSeconds: number };

export type AuthenticateResult =
  | { ok: true; user: User }
  | { ok: false; reason: "invalid_credentials" | "unverified" };

interface PendingDetails {
  name: string;
  passwordHash: string;
}

/** How long a used, void or expired code record is kept so the person hears why it no longer works. */
const RECORD_RETENTION_MS = 24 * 60 * 60 * 1000;

export function createAccounts(deps: AccountDependencies) {
  const { db, store, mailer, config } = deps;
  const now = deps.now ?? Date.now;
  const purpose: CodePurpose = "verify_email";

  /** Issues a fresh code (replacing any earlier one) and mails it. */
  async function sendVerificationCode(
    email: string,
    pending: PendingDetails | undefined,
  ): Promise<{ status: "sent" | "failed" } | { status: "cooldown"; retryAfterSeconds: number }> {
    const key = codeKey(config.codes.hmacKey, purpose, email);
    const code = generateCode();
    const issued = await store.issueCode(key, {
      codeHash: hashCode(config.codes.hmacKey, key, code),
      payload: pending ? JSON.stringify(pending) : "",
      now: now(),
      ttlMs: config.codes.ttlSeconds * 1000,
      cooldownMs: config.codes.resendCooldownSeconds * 1000,
      retentionMs: RECORD_RETENTION_MS,
    });
    if (issued.status === "cooldown") {
      return { status: "cooldown", retryAfterSeconds: Math.ceil(issued.retryAfterMs / 1000) };
    }
    try {
      const message = await verificationCodeMessage({
        appName: config.appName,
        to: email,
        code,
        validMinutes: Math.round(config.codes.ttlSeconds / 60),
      });
      await mailer.send(message);
      logAuthEvent("code_sent", { purpose });
      return { status: "sent" };
    } catch (error) {
      if (!(error instanceof MailDeliveryError)) throw error;
      logAuthEvent("code_send_failed", { purpose, cause: errorName(error.cause) });
      return { status: "failed" };
    }
  }

  async function register(input: RegisterInput): Promise<RegisterResult> {
    // Hash first, whatever happens next, so every branch costs the same.
    const passwordHash = await hashPassword(input.password);
    const created = await insertInactiveCustomer(db, {
      id: randomUUID(),
      email: input.email,
      name: input.name,
      passwordHash,
    });
    if (created) {
      logAuthEvent("registered", { userId: created.id });
      const sent = await sendVerificationCode(input.email, undefined);
      return { ok: true, email: input.email, delivery: sent.status === "failed" ? "failed" : "sent" };
    }

    const existing = await findUserByEmail(db, input.email);
    logAuthEvent("register_existing", { userId: existing?.id, verified: Boolean(existing?.emailVerifiedAt) });
    if (!existing || existing.emailVerifiedAt) {
      // A proven address is never changed by a signup, and the answer is the same as for a new one.
      return { ok: true, email: input.email, delivery: "sent" };
    }
    // Not proven yet: the new details wait beside the code and apply only when it is proven.
    const sent = await sendVerificationCode(input.email, { name: input.name, passwordHash });
    return { ok: true, email: input.email, delivery: sent.status === "failed" ? "failed" : "sent" };
  }

  async function verifyEmail(input: VerifyInput): Promise<VerifyResult> {
    const key = codeKey(config.codes.hmacKey, purpose, input.email);
    const outcome = await store.consumeCode(key, {
      codeHash: hashCode(config.codes.hmacKey, key, input.otp),
      now: now(),
      maxAttempts: config.codes.maxAttempts,
    });
    switch (outcome.status) {
      case "ok": {
        const pending = outcome.payload ? (JSON.parse(outcome.payload) as PendingDetails) : undefined;
        const user = await activateUser(db, input.email, pending, new Date(now()));
        if (!user) return { ok: false, reason: "used" };
        logAuthEvent("verified", { userId: user.id });
        return { ok: true, user };
      }
      // No record looks like a wrong code, so this answer does not tell which addresses have signed up.
      case "missing":
      case "wrong_code":
        logAuthEvent("verify_failed", { reason: "wrong_code" });
        return { ok: false, reason: "wrong_code" };
      default:
        logAuthEvent("verify_failed", { reason: outcome.status });
        return { ok: false, reason: outcome.status };
    }
  }

  async function resendCode(email: string): Promise<ResendResult> {
    const user = await findUserByEmail(db, email);
    if (!user || user.emailVerifiedAt) return { ok: true, email, delivery: "sent" };
    const sent = await sendVerificationCode(email, undefined);
    if (sent.status === "cooldown") {
      logAuthEvent("rate_limited", { limit: "resend_cooldown", userId: user.id });
      return { ok: false, reason: "rate_limited", retryAfterSeconds: sent.retryAfterSeconds };
    }
    return { ok: true, email, delivery: sent.status };
  }

  async function authenticate(input: LoginInput): Promise<AuthenticateResult> {
    const user = await findUserByEmail(db, input.email);
    if (!user) {
      await burnPasswordCheck(input.password);
      logAuthEvent("login_failed", { reason: "unknown_email" });
      return { ok: false, reason: "invalid_credentials" };
    }
    if (!(await verifyPassword(user.passwordHash, input.password))) {
      logAuthEvent("login_failed", { userId: user.id, reason: "wrong_password" });
      return { ok: false, reason: "invalid_credentials" };
    }
    // Only someone who knows the password learns the account is unverified.
    if (!user.emailVerifiedAt) {
      logAuthEvent("login_inactive", { userId: user.id });
      return { ok: false, reason: "unverified" };
    }
    if (!user.isActive) {
      logAuthEvent("login_failed", { userId: user.id, reason: "deactivated" });
      return { ok: false, reason: "invalid_credentials" };
    }
    logAuthEvent("login_ok", { userId: user.id });
    return { ok: true, user };
  }

  return { register, verifyEmail, resendCode, authenticate };
}

export type Accounts = ReturnType<typeof createAccounts>;

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : "unknown";
}
