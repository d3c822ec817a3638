import "server-only";
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import type { Database } from "@/db/client";
import type { User } from "@/db/schema";
import { removeAllPasskeys } from "@/db/passkeys";
import { insertStaffAccount, reclaimUnverifiedAccount } from "@/db/staff";
import { findUserByEmail, updateUserEndingSessions } from "@/db/users";
import type { AppConfig } from "../platform/config";
import { logAuthEvent } from "../platform/log";
import { passwordProblem } from "../credentials/password-policy";
import { hashPassword } from "../credentials/passwords";
import { emailSchema, nameSchema, passwordSchema } from "../schemas";
import { rememberSessionVersion } from "../sessions/sessions";
import type { CodeStore } from "../store/code-store";
import { createSecondFactor } from "../credentials/totp";

/**
 * The core of `npm run create-admin` (scripts/create-admin.ts holds the terminal part): creates a
 * verified, active staff or admin account, or promotes an existing one, as Django's createsuperuser
 * does. The password is asked interactively, for a new account and for an address nobody verified; it
 * never comes from argv or env. Every account left without an authenticator gets an enrolment code.
 */

export const CREATE_ADMIN_USAGE = "Usage: npm run create-admin -- --email ADDRESS [--role admin|staff] [--name NAME] [--reset-totp] [--env-file FILE]";

export interface CreateAdminInput {
  email: string;
  role: "staff" | "admin";
  name?: string;
  /** Removes the account's authenticator and recovery codes (a lost phone): the person enrols again. */
  resetTotp: boolean;
  envFiles: string[];
}

export function parseCreateAdminArgs(argv: string[]): { ok: true; input: CreateAdminInput } | { ok: false; message: string; help?: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        email: { type: "string" },
        role: { type: "string", default: "admin" },
        name: { type: "string" },
        "reset-totp": { type: "boolean", default: false },
        "env-file": { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    // --password and friends land here too: a password is never taken from the command line.
    return { ok: false, message: `${(error as Error).message}\n${CREATE_ADMIN_USAGE}` };
  }
  if (values.help) return { ok: false, message: CREATE_ADMIN_USAGE, help: true };
  const email = emailSchema.safeParse(values.email ?? "");
  if (!email.success) return { ok: false, message: `--email: ${email.error.issues[0]?.message}\n${CREATE_ADMIN_USAGE}` };
  if (values.role !== "admin" && values.role !== "staff") return { ok: false, message: `--role must be admin or staff.\n${CREATE_ADMIN_USAGE}` };
  let name: string | undefined;
  if (values.name !== undefined) {
    const parsed = nameSchema.safeParse(values.name);
    if (!parsed.success) return { ok: false, message: `--name: ${parsed.error.issues[0]?.message}` };
    name = parsed.data;
  }
  return { ok: true, input: { email: email.data, role: values.role, name, resetTotp: values["reset-totp"] ?? false, envFiles: values["env-file"] ?? [] } };
}

/** The signup rules for a new password, plus the confirmation: a problem to show, or undefined. */
export function newPasswordProblem(
  password: string,
  confirmation: string,
  context: { minLength: number; appName: string; name?: string; email: string },
): string | undefined {
  const parsed = passwordSchema(context.minLength).safeParse(password);
  if (!parsed.success) return parsed.error.issues[0]?.message ?? "That password cannot be used.";
  if (parsed.data !== confirmation.normalize("NFC")) return "The passwords do not match.";
  return passwordProblem(parsed.data, { appName: context.appName, name: context.name, email: context.email });
}

export interface CreateAdminDependencies {
  db: Database;
  /** Where the session versions are cached: a promotion's bump reaches running servers at once. */
  store: CodeStore;
  config: Pick<AppConfig, "appName" | "passwordMinLength" | "totp">;
  now?: () => number;
}

export interface CreateAdminResult {
  /** reclaimed: the address was never verified; what its signup chose was discarded for what the operator typed. */
  action: "created" | "promoted" | "reclaimed";
  user: User;
  totpReset: boolean;
  /** Passkeys removed because a customer became staff or admin (they were added without the second factor). */
  passkeysRemoved: number;
  /** For the operator's terminal only, once; absent when the account's authenticator stays on. */
  enrolmentCode?: { code: string; expiresAt: Date };
}

/** unverifiedSignup: the account exists, but nobody proved its address; its password is about to be replaced. */
type AskPassword = (context: { name: string; unverifiedSignup: boolean }) => Promise<{ password: string; confirmation: string }>;

/**
 * Creates, promotes or reclaims. `askPassword` is called for a new account and for one whose address was
 * never verified, and must return a password that passed newPasswordProblem (the script asks until it
 * does); it is checked again here.
 */
export async function createOrPromoteStaff(
  deps: CreateAdminDependencies,
  input: Pick<CreateAdminInput, "email" | "role" | "name" | "resetTotp">,
  askPassword: AskPassword,
): Promise<CreateAdminResult> {
  const { db, store, config } = deps;
  const now = new Date((deps.now ?? Date.now)());
  const secondFactor = createSecondFactor({ db, config, now: deps.now });
  const existing = await findUserByEmail(db, input.email);
  const name = input.name ?? input.email.split("@")[0]!;
  const typedPasswordHash = async () => {
    const { password, confirmation } = await askPassword({ name, unverifiedSignup: Boolean(existing) });
    const problem = newPasswordProblem(password, confirmation, { minLength: config.passwordMinLength, appName: config.appName, name, email: input.email });
    if (problem) throw new Error(problem);
    return hashPassword(password.normalize("NFC"));
  };
  let result: CreateAdminResult;

  if (!existing) {
    const user = await insertStaffAccount(db, { id: randomUUID(), email: input.email, name, passwordHash: await typedPasswordHash(), role: input.role }, now);
    logAuthEvent("admin_created", { userId: user!.id, to: input.role });
    result = { action: "created", user: user!, totpReset: false, passkeysRemoved: 0 };
  } else if (!existing.emailVerifiedAt) {
    // Nobody proved this address: its password and name may be an attacker's, registered ahead of the
    // operator. They are replaced, as for a new account, and any session ends.
    const user = await reclaimUnverifiedAccount(db, existing.id, { name, passwordHash: await typedPasswordHash(), role: input.role }, now);
    if (!user) throw new Error(`${input.email} changed while this ran (it was verified meanwhile): run the command again.`);
    await rememberSessionVersion(store, user);
    logAuthEvent("admin_reclaimed", { userId: user.id, from: existing.role, to: input.role });
    result = { action: "reclaimed", user, totpReset: false, passkeysRemoved: 0 };
  } else {
    // The operator vouches for the address; every session of the account ends (its role changes under it).
    const user = await updateUserEndingSessions(db, existing.id, { role: input.role, isActive: true, ...(input.name ? { name: input.name } : {}) }, now);
    await rememberSessionVersion(store, user!);
    logAuthEvent("admin_promoted", { userId: user!.id, from: existing.role, to: input.role });
    result = { action: "promoted", user: user!, totpReset: false, passkeysRemoved: 0 };
  }

  // A customer's passkeys were added from a session without the second factor, and a passkey sign-in counts as
  // one: as staff or admin they would skip it. The person adds them again from a session opened with TOTP.
  if (existing && existing.role === "customer") {
    result.passkeysRemoved = await removeAllPasskeys(db, result.user.id);
    if (result.passkeysRemoved > 0) logAuthEvent("passkeys_removed", { userId: result.user.id, count: result.passkeysRemoved });
  }

  if (input.resetTotp) {
    await secondFactor.reset(result.user.id);
    result.totpReset = true;
  }
  // Enrolment needs this code besides the password, so a password alone cannot bind someone else's phone.
  if (!(await secondFactor.isEnabled(result.user.id))) result.enrolmentCode = await secondFactor.enrolmentCodes.issue(result.user.id);
  return result;
}

/** What the command prints after the change (the enrolment code among it: the terminal is its only copy). */
export function createAdminReport(result: CreateAdminResult): string[] {
  const lines: string[] = [];
  if (result.action === "reclaimed") {
    lines.push(
      "This address had signed up but was never verified: the password and name chosen at that signup were discarded. Only the password typed here works.",
    );
  }
  if (result.action !== "created") lines.push("Every existing session of this account has ended.");
  if (result.totpReset) lines.push("Its authenticator and recovery codes were removed.");
  if (result.passkeysRemoved > 0) {
    const n = result.passkeysRemoved;
    lines.push(
      `Its ${n} passkey${n === 1 ? " was" : "s were"} removed (added while it was a customer): they can be added again after logging in with the authenticator app.`,
    );
  }
  if (result.enrolmentCode) {
    const { code, expiresAt } = result.enrolmentCode;
    lines.push(
      `Enrolment code: ${code}`,
      `  Shown only now; it works once, until ${expiresAt.toISOString()}. Give it to the account's owner yourself (not by email).`,
      "  At the first login, /admin asks to set up an authenticator app (TOTP) and for this code before it opens.",
      "  A new one: run this command again for the same address.",
    );
  } else {
    lines.push("Its authenticator app stays on: it logs in with a code from that app.");
  }
  return lines;
}
