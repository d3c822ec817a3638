import "server-only";
import { codeKey, generateCode, hashCode, type CodePurpose } from "./codes";
import type { AppConfig } from "../platform/config";
import { emailId, sendLimits } from "./limits";
import { logAuthEvent } from "../platform/log";
import { deliveryStateKey, type DeliveryQueue, type DeliveryState } from "../mail/delivery-queue";
import { MailDeliveryError, type Mailer, type MailMessage } from "../mail/mailer";
import { codeMessage, noticeMessage, type CodeOccasion, type NoticeKind } from "../mail/messages";
import { seal, unseal } from "../credentials/sealed";
import type { CodeStore, ConsumeCodeOutcome, LimitRule } from "../store/code-store";

/** How long a used, void or expired code record is kept so the person hears why it no longer works. */
const RECORD_RETENTION_MS = 24 * 60 * 60 * 1000;

/** "sending": queued (the delivery queue sends it and keeps its state); "sent"/"failed": sent inline. */
export type Delivery = "sending" | "sent" | "failed";

export type { CodeOccasion };

/**
 * Whose record holds a code: an address's (most purposes), or an account's. A pending email change is
 * the account's, so it survives the address changing under it: confirmations racing the change all
 * find the used record instead of an empty one under the new address (which would count as guesses).
 */
export type RecordOwner = { keyEmail: string } | { accountId: string };

/** An address's code goes to that address unless `to` says otherwise; an account's names its recipient. */
type IssueInput = ({ keyEmail: string; to?: string } | { accountId: string; to: string }) & {
  purpose: CodePurpose;
  payload?: string;
  /** Word the email as another purpose's (an unverified account asking for a sign-in code gets a verification code). */
  mailAs?: CodePurpose;
  /** What led to this code, told in the email with its time, so a reader can tell their own request from another's. */
  occasion?: CodeOccasion;
  /** Answer once the code is stored and mail it after the response (see `defer`). */
  inBackground?: boolean;
  /**
   * A decoy where no code may be mailed (no account, a taken address): stored like a real one, within the
   * same limits and with the same attempts, but never mailed (`notice` goes instead, if given) and never
   * accepted, so checking codes answers alike whether or not there is a real record.
   */
  decoy?: { notice?: NoticeKind };
};

/** What a decoy record carries instead of pending details: even its (unknowable) code is never accepted. */
const DECOY_PAYLOAD = JSON.stringify({ decoy: true });

export interface CodeMachineryDependencies {
  store: CodeStore;
  mailer: Mailer;
  config: Pick<AppConfig, "appName" | "codes" | "limits">;
  now: () => number;
  /**
   * Runs work after the response (Next's `after()` in the app). Where an answer must not depend on
   * whether mail went out (resend, reset and sign-in requests, which would otherwise tell which
   * addresses have accounts by their timing), the mail is handed off here. Without it, mail is sent inline.
   */
  defer?: (task: () => Promise<unknown>) => void;
  /** The product-wide guessing signal (lib/codes/guessing-alarm.ts): paces each check and counts each wrong code. */
  alarm?: { pace(): Promise<void>; counted: LimitRule[] };
  /** Where mail goes when set (lib/mail/delivery-queue.ts): answers once queued. Without it, mail is sent as above. */
  deliveries?: DeliveryQueue;
}

/**
 * The one code machinery every purpose uses: issue a code within the address's send limits, mail it,
 * and consume it atomically within the failure budgets. The service decides who gets which code.
 */
export function createCodeMachinery({ store, mailer, config, now, defer, alarm, deliveries }: CodeMachineryDependencies) {
  const idOf = (email: string) => emailId(config.codes.hmacKey, email);
  const recordKey = (owner: RecordOwner, purpose: CodePurpose) => codeKey("keyEmail" in owner ? idOf(owner.keyEmail) : `account:${owner.accountId}`, purpose);

  async function deliver(message: Promise<MailMessage>, kind: string): Promise<Delivery> {
    try {
      await mailer.send(await message);
      logAuthEvent("code_sent", { kind });
      return "sent";
    } catch (error) {
      if (!(error instanceof MailDeliveryError)) throw error;
      logAuthEvent("code_send_failed", { kind, cause: error.describe() });
      return "failed";
    }
  }

  /**
   * Issues a code for `purpose` in its owner's record (the previous live code stays valid beside it)
   * and mails it to the recipient, counting against the recipient's send limits.
   */
  async function issue(input: IssueInput): Promise<{ status: Delivery } | { status: "limited"; retryAfterMs: number }> {
    const to = "keyEmail" in input ? (input.to ?? input.keyEmail) : input.to;
    const key = recordKey(input, input.purpose);
    const code = generateCode();
    const issuedAt = now();
    const limits = sendLimits(config, idOf(to), input.purpose);
    const issued = await store.issueCode(key, {
      codeHash: hashCode(config.codes.hmacKey, key, code),
      // The store sees pending details (a name and password hash, a new address) only sealed to this record.
      payload: input.decoy ? seal(config.codes.payloadKey, key, DECOY_PAYLOAD) : input.payload ? seal(config.codes.payloadKey, key, input.payload) : "",
      now: issuedAt,
      ttlMs: config.codes.ttlSeconds * 1000,
      maxLifetimeMs: config.codes.maxLifetimeSeconds * 1000,
      retentionMs: RECORD_RETENTION_MS,
      sendLimits: limits,
    });
    if (issued.status === "limited") return issued;
    if (input.decoy) {
      if (deliveries) {
        // Through the queue like a real send (the notice, or nothing at all), so the delivery state moves alike.
        const notice = input.decoy.notice ? await noticeMessage(input.decoy.notice, { appName: config.appName, to }) : undefined;
        const status = await deliveries.enqueue({
          kind: input.decoy.notice ?? input.purpose,
          ...(notice ? { message: notice } : {}),
          stateKey: deliveryStateKey(idOf(to), input.purpose),
          lifetimeMs: issued.expiresAt - issuedAt,
          resetOnFailure: limits.slice(0, 1),
        });
        return { status };
      }
      if (!input.decoy.notice) return { status: "sent" };
      const status = await notify(input.decoy.notice, to);
      if (status === "failed") await store.limits("reset", limits.slice(0, 1));
      return { status };
    }
    const validMinutes = Math.max(1, Math.round((issued.expiresAt - issuedAt) / 60_000));
    const purpose = input.mailAs ?? input.purpose;
    if (deliveries) {
      const message = await codeMessage({ purpose, appName: config.appName, to, code, validMinutes, occasion: input.occasion, at: issuedAt });
      const status = await deliveries.enqueue({
        kind: purpose,
        message,
        stateKey: deliveryStateKey(idOf(to), input.purpose),
        lifetimeMs: issued.expiresAt - issuedAt,
        resetOnFailure: limits.slice(0, 1),
      });
      return { status };
    }
    const send = async () => {
      const message = codeMessage({ purpose, appName: config.appName, to, code, validMinutes, occasion: input.occasion, at: issuedAt });
      const status = await deliver(message, purpose);
      // A send that failed should not make the person wait out the cooldown before trying again.
      if (status === "failed") await store.limits("reset", limits.slice(0, 1));
      return status;
    };
    if (input.inBackground && defer) {
      defer(send);
      return { status: "sent" };
    }
    return { status: await send() };
  }

  async function consume(purpose: CodePurpose, owner: RecordOwner, otp: string, failureLimits: LimitRule[]): Promise<ConsumeCodeOutcome> {
    await alarm?.pace();
    const key = recordKey(owner, purpose);
    const outcome = await store.consumeCode(key, {
      codeHash: hashCode(config.codes.hmacKey, key, otp),
      now: now(),
      maxAttempts: config.codes.maxAttempts,
      failureLimits: alarm ? [...failureLimits, ...alarm.counted] : failureLimits,
    });
    if (outcome.status !== "ok" || !outcome.payload) return outcome;
    const payload = unseal(config.codes.payloadKey, key, outcome.payload);
    return payload === DECOY_PAYLOAD ? { status: "used" } : { status: "ok", payload };
  }

  async function notify(kind: NoticeKind, to: string): Promise<Delivery> {
    const message = noticeMessage(kind, { appName: config.appName, to });
    if (!deliveries) return deliver(message, kind);
    return deliveries.enqueue({ kind, message: await message, lifetimeMs: config.codes.ttlSeconds * 1000 });
  }

  /** How the latest mail asked for `purpose` to this address went; undefined when none was asked for within a code's life. */
  async function deliveryState(email: string, purpose: CodePurpose): Promise<DeliveryState | undefined> {
    if (!deliveries) return undefined;
    deliveries.kick(); // someone is waiting for this mail: make sure a drain is running
    return deliveries.state(deliveryStateKey(idOf(email), purpose));
  }

  /**
   * A notice to an address nobody here has proven (someone typed it): within that address's send
   * limits for the purpose it answers, exactly like a code, including the cooldown reset when the send fails.
   */
  async function notifyWithinLimits(
    kind: NoticeKind,
    to: string,
    purpose: CodePurpose,
  ): Promise<{ status: Delivery } | { status: "limited"; retryAfterMs: number }> {
    const limits = sendLimits(config, idOf(to), purpose);
    const allowed = await store.limits("hit", limits);
    if (!allowed.allowed) return { status: "limited", retryAfterMs: allowed.retryAfterMs };
    if (deliveries) {
      const message = await noticeMessage(kind, { appName: config.appName, to });
      const status = await deliveries.enqueue({
        kind,
        message,
        stateKey: deliveryStateKey(idOf(to), purpose),
        lifetimeMs: config.codes.ttlSeconds * 1000,
        resetOnFailure: limits.slice(0, 1),
      });
      return { status };
    }
    const status = await notify(kind, to);
    if (status === "failed") await store.limits("reset", limits.slice(0, 1));
    return { status };
  }

  return { idOf, issue, consume, notify, notifyWithinLimits, deliveryState };
}

export type CodeMachinery = ReturnType<typeof createCodeMachinery>;
