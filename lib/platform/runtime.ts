import "server-only";
import { after } from "next/server";
import { getDatabase } from "@/db/client";
import { createAccountSettings, type AccountSettings } from "../accounts/account-settings";
import { createAccounts, type Accounts } from "../accounts/accounts";
import { installAuditLog } from "./audit";
import { createPasskeys, type Passkeys } from "../credentials/passkeys";
import { createRecovery, type Recovery } from "../accounts/recovery";
import { createSessionList, type SessionList } from "../sessions/session-list";
import { createOwnSecondFactor, type OwnSecondFactor } from "../accounts/own-second-factor";
import { createAccountData, type AccountData } from "../accounts/account-data";
import { getConfig } from "./config";
import { createDeliveryQueue } from "../mail/delivery-queue";
import type { Mailer } from "../mail/mailer";
import type { CodeStore } from "../store/code-store";

/**
 * The composition root. The outside world is chosen once per process from the validated configuration. Created lazily (never at
 * import time: `next build` imports every route) and kept on globalThis so dev hot reloads share them.
 */
const holder = globalThis as {
  __codeStore?: CodeStore;
  __mailer?: Mailer;
  __services?: Promise<{
    accounts: Accounts;
    recovery: Recovery;
    settings: AccountSettings;
    sessionList: SessionList;
    ownSecondFactor: OwnSecondFactor;
    accountData: AccountData;
    passkeys: Passkeys;
  }>;
};

/** The services, wired once to the configured database, code store and mailer. */
function services() {
  holder.__services ??= (async () => {
    const [db, store, mailer] = await Promise.all([getDatabase(), getCodeStore(), getMailer()]);
    installAuditLog(db); // auth events also land in the auth_events table (lib/platform/audit.ts)
    // Mail that must not show in an answer's timing goes out after the response (lib/codes/one-time-codes.ts).
    const config = getConfig();
    const defer = (task: () => Promise<unknown>) => after(task);
    // Mail goes out through the delivery queue in the code store, paced to the provider's rate (lib/mail/delivery-queue.ts).
    const deliveries = createDeliveryQueue({ store, mailer, sealKey: config.codes.payloadKey, ratePerSecond: config.mail.ratePerSecond, defer });
    const deps = { db, store, mailer, config, defer, deliveries };
    const accounts = createAccounts(deps);
    return {
      accounts,
      recovery: createRecovery(deps, accounts),
      settings: createAccountSettings(deps, accounts),
      sessionList: createSessionList({ db, store, config: deps.config.auth }),
      ownSecondFactor: createOwnSecondFactor(deps, accounts),
      accountData: createAccountData(deps, accounts),
      passkeys: createPasskeys(deps, accounts),
    };
  })().catch((error: unknown) => {
    holder.__services = undefined; // try again on the next request rather than failing forever
    throw error;
  });
  return holder.__services;
}

export const getRecovery = async () => (await services()).recovery;
export const getAccountSettings = async () => (await services()).settings;
export const getSessionList = async () => (await services()).sessionList;
export const getOwnSecondFactor = async () => (await services()).ownSecondFactor;
export const getAccountData = async () => (await services()).accountData;
export const getPasskeys = async () => (await services()).passkeys;

/** The account service (signup, verification, login). */
export async function getAccounts(): Promise<Accounts> {
  return (await services()).accounts;
}

export async function getCodeStore(): Promise<CodeStore> {
  if (!holder.__codeStore) {
    const config = getConfig().codeStore;
    switch (config.kind) {
      case "upstash": {
        const { UpstashCodeStore } = await import("../store/upstash");
        holder.__codeStore ??= new UpstashCodeStore(config.url, config.token);
        break;
      }
      case "redis": {
        const { RedisCodeStore } = await import("../store/redis");
        holder.__codeStore ??= new RedisCodeStore(config.url, config.cluster);
        break;
      }
      case "memory": {
        const { MemoryCodeStore } = await import("../store/memory");
        holder.__codeStore ??= new MemoryCodeStore();
        break;
      }
    }
  }
  return holder.__codeStore!;
}

export async function getMailer(): Promise<Mailer> {
  if (!holder.__mailer) {
    const config = getConfig().mail;
    switch (config.kind) {
      case "resend": {
        const { ResendMailer } = await import("../mail/resend");
        holder.__mailer ??= new ResendMailer(config.apiKey, config.from, config.baseUrl);
        break;
      }
      case "smtp": {
        const { SmtpMailer } = await import("../mail/smtp");
        holder.__mailer ??= new SmtpMailer(config, config.from);
        break;
      }
      case "outbox": {
        const { DevOutboxMailer } = await import("../mail/outbox");
        holder.__mailer ??= new DevOutboxMailer();
        break;
      }
    }
  }
  return holder.__mailer!;
}
