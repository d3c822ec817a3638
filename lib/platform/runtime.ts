import "server-only";
import { after } from "next/server";
import { getDatabase } from "@/db/client";
import { createAccountSettings } from "../accounts/account-settings";
import { createAccounts, type AccountDependencies, type Accounts } from "../accounts/accounts";
import { createLoginAttempts } from "../accounts/login-attempts";
import { createRegistrations } from "../accounts/registrations";
import { createSecondFactorNotice } from "../accounts/second-factor-notice";
import { createCodeMachinery } from "../codes/one-time-codes";
import { installAuditLog } from "./audit";
import { runHealthChecks } from "./health";
import { createPasskeys } from "../credentials/passkeys";
import { createRecovery } from "../accounts/recovery";
import { createSessionList } from "../sessions/session-list";
import { createOwnSecondFactor } from "../accounts/own-second-factor";
import { createAccountData } from "../accounts/account-data";
import { confirmOwnPassword } from "../accounts/password-confirmation";
import { getConfig, type AppConfig, type CodeStoreConfig } from "./config";
import { createDeliveryQueue } from "../mail/delivery-queue";
import type { Mailer } from "../mail/mailer";
import type { CodeStore } from "../store/code-store";
import { createCleanupHandler } from "../staff/cleanup";
import { createGuessingAlarm, type GuessingAlarm } from "../codes/guessing-alarm";
import { createSecondFactor, type SecondFactor } from "../credentials/totp";
import { createUserAdministration, type UserAdministration } from "../staff/admin";
import { bumpSessionVersion } from "../sessions/sessions";
import { authMetrics, type AuthMetrics, type MetricSpan } from "../staff/metrics";
import type { User } from "@/db/schema";
import { findUserById } from "@/db/users";

/**
 * The composition root. The outside world is chosen once per process from the validated configuration. Created lazily (never at
 * import time: `next build` imports every route) and kept on globalThis so dev hot reloads share them.
 */
const holder = globalThis as {
  __codeStore?: CodeStore;
  __mailer?: Mailer;
  __services?: Promise<Services>;
};

/** What the staff area (/admin, lib/staff/admin-access.ts) works with. */
export interface StaffArea {
  findUser: (userId: string) => Promise<User | undefined>;
  secondFactor: SecondFactor;
  administration: UserAdministration;
  guessingAlarm: GuessingAlarm;
  metrics: (span: MetricSpan) => Promise<AuthMetrics>;
  /** Ends every session of the account on its next request. */
  endSessions: (userId: string) => Promise<unknown>;
}

export type Services = ReturnType<typeof wireServices>;

/**
 * Every service and what they share, wired to one set of dependencies: the parts several services use (the
 * code machinery with the guessing alarm, pending signups, the login limits and password check, the second
 * factor) are created here once and handed to each service that needs them. The service tests wire with this too.
 */
export function wireServices(deps: AccountDependencies & { config: AppConfig }) {
  const { db, store, mailer, config } = deps;
  const now = deps.now ?? Date.now;
  const guessingAlarm = createGuessingAlarm({ store, config, now, sleep: deps.sleep });
  const codes = createCodeMachinery({ store, mailer, config, now, defer: deps.defer, alarm: guessingAlarm, deliveries: deps.deliveries });
  const registrations = createRegistrations({ store, config, now });
  const loginAttempts = createLoginAttempts({ db, store, config, idOf: codes.idOf, registrations });
  const secondFactor = createSecondFactor({ db, config, now });
  const shared = { codes, loginAttempts, secondFactor };
  const secondFactorNotice = createSecondFactorNotice({ store, config, codes });
  return {
    ...shared,
    accounts: createAccounts(deps, { ...shared, registrations, secondFactorNotice }),
    recovery: createRecovery(deps, shared),
    settings: createAccountSettings(deps, shared),
    sessionList: createSessionList({
      db,
      store,
      config: config.auth,
      confirmPassword: (userId, password, context) => confirmOwnPassword({ db, loginAttempts }, userId, password, context),
    }),
    ownSecondFactor: createOwnSecondFactor(deps, shared),
    accountData: createAccountData(deps, shared),
    passkeys: createPasskeys(deps, shared),
    staff: {
      findUser: (userId: string) => findUserById(db, userId),
      secondFactor,
      administration: createUserAdministration({ db, store, now }),
      guessingAlarm,
      metrics: (span: MetricSpan) => authMetrics(db, span),
      endSessions: (userId: string) => bumpSessionVersion(db, store, userId),
    } satisfies StaffArea,
  };
}

/** The services, wired once to the configured database, code store and mailer. */
function services(): Promise<Services> {
  holder.__services ??= (async () => {
    const [db, store, mailer] = await Promise.all([getDatabase(), getCodeStore(), getMailer()]);
    installAuditLog(db); // auth events also land in the auth_events table (lib/platform/audit.ts)
    // Mail that must not show in an answer's timing goes out after the response (lib/codes/one-time-codes.ts).
    const config = getConfig();
    const defer = (task: () => Promise<unknown>) => after(task);
    // Mail goes out through the delivery queue in the code store, paced to the provider's rate (lib/mail/delivery-queue.ts).
    const deliveries = createDeliveryQueue({ store, mailer, sealKey: config.codes.payloadKey, ratePerSecond: config.mail.ratePerSecond, defer });
    return wireServices({ db, store, mailer, config, defer, deliveries });
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
export const getStaffArea = async () => (await services()).staff;

/** The account service (signup, verification, login). */
export async function getAccounts(): Promise<Accounts> {
  return (await services()).accounts;
}

/** The one place the configured code store is chosen (the app's, and each script's own connection). */
export async function createCodeStore(config: CodeStoreConfig): Promise<CodeStore & { close?: () => Promise<void> }> {
  switch (config.kind) {
    case "upstash":
      return new (await import("../store/upstash")).UpstashCodeStore(config.url, config.token);
    case "redis":
      return new (await import("../store/redis")).RedisCodeStore(config.url, config.cluster);
    case "memory":
      return new (await import("../store/memory")).MemoryCodeStore();
  }
}

/** The one place the configured mail transport is chosen (the app's, and the doctor's). */
export async function createMailer(config: AppConfig["mail"]): Promise<Mailer> {
  switch (config.kind) {
    case "resend":
      return new (await import("../mail/resend")).ResendMailer(config.apiKey, config.from, config.baseUrl);
    case "smtp":
      return new (await import("../mail/smtp")).SmtpMailer(config, config.from);
    case "outbox":
      return new (await import("../mail/outbox")).DevOutboxMailer();
  }
}

export async function getCodeStore(): Promise<CodeStore> {
  if (!holder.__codeStore) {
    const store = await createCodeStore(getConfig().codeStore);
    holder.__codeStore ??= store;
  }
  return holder.__codeStore;
}

export async function getMailer(): Promise<Mailer> {
  if (!holder.__mailer) {
    const mailer = await createMailer(getConfig().mail);
    holder.__mailer ??= mailer;
  }
  return holder.__mailer;
}

/** GET /api/health's checks of the process's database and code store. */
export function checkHealth(config: AppConfig) {
  return runHealthChecks({
    isProduction: config.isProduction,
    codeStoreKind: config.codeStore.kind,
    mailKind: config.mail.kind,
    database: getDatabase,
    codeStore: getCodeStore,
  });
}

/** The cron route's handler: the cleanup of unverified accounts on the process's database. */
export const cleanupRoute = createCleanupHandler({ housekeeping: () => getConfig().housekeeping, database: getDatabase });
