/**
 * npm run create-admin -- --email ADDRESS [--role admin|staff] [--name NAME] [--reset-totp] [--env-file FILE]
 *
 * Creates a verified, active staff or admin account, or promotes an existing account (its sessions end).
 * The password of a new account, or of an existing one whose address was never verified (its signup's
 * password is discarded), is typed twice in the terminal, hidden; it is never read from the command line
 * or the environment. --reset-totp removes the account's authenticator (a lost phone). Whenever the account
 * is left without an authenticator, a one-time enrolment code is printed here, and only here: the person
 * needs it to set one up. The core is lib/staff/create-admin.ts.
 */
import { stdin, stdout } from "node:process";
import { applyMigrations } from "@/db/client";
import { createAuditLog } from "@/lib/platform/audit";
import { createAdminReport, createOrPromoteStaff, newPasswordProblem, parseCreateAdminArgs } from "@/lib/staff/create-admin";
import { migrationsUpToDate, readMigrationStatus } from "@/lib/platform/health";
import { setAuthEventSink } from "@/lib/platform/log";
import { createCodeStore } from "@/lib/platform/runtime";
import { runScript, scriptConfig } from "./support/cli";
import { connectDatabase, localFile } from "./support/database";
import { loadEnvFiles } from "./support/env-files";
import { askNewPassword, PromptCancelled } from "./support/prompt";
import { describeError, describeUrl } from "./support/redact";

async function main(): Promise<number> {
  const args = parseCreateAdminArgs(process.argv.slice(2));
  if (!args.ok) {
    (args.help ? console.log : console.error)(args.message);
    return args.help ? 0 : 1;
  }
  const { input } = args;
  loadEnvFiles(input.envFiles);

  // The server's start-up guards (mail transport and the like) do not apply to this command.
  const config = scriptConfig();
  if (!config) return 1;

  const { url, authToken } = config.database;
  const { client, db } = connectDatabase(url, authToken, { createFile: true });
  let store: Awaited<ReturnType<typeof createCodeStore>> | undefined;
  // Structured event lines are for servers; here the auth_events table records what happened.
  const audit = createAuditLog(db);
  setAuthEventSink(audit.sink);
  console.info = () => {};
  try {
    if (localFile(url)) {
      await applyMigrations(db); // as the app does when it opens a local file
    } else {
      const status = await readMigrationStatus(db);
      if (!migrationsUpToDate(status)) {
        console.error(`${describeUrl(url)} is not migrated (${status.applied} of ${status.expected}): run npm run db:migrate first.`);
        return 1;
      }
    }
    store = await createCodeStore(config.codeStore);
    const result = await createOrPromoteStaff({ db, store, config }, input, async ({ name, unverifiedSignup }) => {
      if (unverifiedSignup) console.log(`${input.email} signed up but never verified the address: the password chosen at that signup will be discarded.`);
      console.log(
        `Setting the password of ${input.role} account ${input.email}. Choose one (at least ${config.passwordMinLength} characters; it is not shown).`,
      );
      return askNewPassword({ input: stdin, output: stdout }, (password, confirmation) =>
        newPasswordProblem(password, confirmation, { minLength: config.passwordMinLength, appName: config.appName, name, email: input.email }),
      );
    });
    await audit.flush();
    const what = { created: "Created", promoted: "Promoted", reclaimed: "Reclaimed" }[result.action];
    console.log(`${what} ${result.user.email} as ${result.user.role} (verified, active) in ${describeUrl(url)}.`);
    for (const line of createAdminReport(result)) console.log(line);
    if (result.action !== "created" && config.codeStore.kind === "memory") {
      console.log("(No shared code store is configured: a running dev server may accept old sessions for up to a minute.)");
    }
    return 0;
  } catch (error) {
    if (error instanceof PromptCancelled) {
      console.error("Cancelled: nothing was changed.");
      return 1;
    }
    console.error(`create-admin failed: ${describeError(error, [authToken])}`);
    return 1;
  } finally {
    await audit.flush();
    await store?.close?.();
    client.close();
  }
}

runScript(main);
