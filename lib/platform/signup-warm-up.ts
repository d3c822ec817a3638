import "server-only";
import { timingSafeEqual } from "node:crypto";
import { findUserByEmail } from "@/db/users";
import { burnPasswordCheck } from "../credentials/passwords";
import { passwordProblem } from "../credentials/password-policy";
import { verificationCodeMessage } from "../mail/messages";
import { registerSchema } from "../schemas";
import { getConfig } from "./config";
import { getAccounts, getCodeStore } from "./runtime";
import { getDatabase } from "@/db/client";
import { warmUpKey } from "./warm-up";

/** Whether `presented` is this process's warm-up key (lib/platform/warm-up.ts). */
export function isOwnWarmUp(presented: string | null): boolean {
  if (!presented) return false;
  const expected = Buffer.from(warmUpKey());
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const WARM_UP_EMAIL = "warm-up@example.invalid";

let done: Promise<void> | undefined;

/**
 * What a signup runs for the first time, once per process, with nothing written anywhere: the services and their
 * connections, one read of the users table, the form's schema and the password checks, one Argon2id job on a
 * throwaway password, and the signup email rendered (the rendering is cached by minute, lib/mail/messages.ts).
 */
export function warmUpSignup(): Promise<void> {
  done ??= (async () => {
    const started = performance.now();
    const config = getConfig();
    await getAccounts();
    const [db, store] = await Promise.all([getDatabase(), getCodeStore()]);
    await Promise.all([findUserByEmail(db, WARM_UP_EMAIL), store.ping()]);
    const password = crypto.randomUUID();
    registerSchema(config.passwordMinLength).safeParse({ name: "Warm Up", email: WARM_UP_EMAIL, password });
    passwordProblem(password, { appName: config.appName, name: "Warm Up", email: WARM_UP_EMAIL });
    await burnPasswordCheck(password);
    await verificationCodeMessage({
      appName: config.appName,
      to: WARM_UP_EMAIL,
      code: "000000",
      validMinutes: Math.max(1, Math.round(config.codes.ttlSeconds / 60)),
      occasion: "signup",
      at: Date.now(),
    });
    console.info(JSON.stringify({ event: "warm_up", ms: Math.round(performance.now() - started) }));
  })().catch(() => {
    console.warn(JSON.stringify({ event: "warm_up_failed" }));
  });
  return done;
}
