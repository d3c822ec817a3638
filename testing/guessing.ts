import { readFileSync } from "node:fs";
import { clientAddresses, httpClient, withTestStack } from "./http-client";
import type { TestStack, TestStackOptions } from "./services/app-server";

/** The product-wide guessing alarm's level in the guessing suites: lowered from the default so a test can reach it. */
export const ALARM_PER_HOUR = 100;
/** The password a reset code would set. */
export const NEW_PASSWORD = "quiet orchard bicycle meadow 77";

/**
 * The app stack of a guessing suite (the alarm at ALARM_PER_HOUR after 20 ms), started before the file's tests
 * and handed to `use`; returns its client: `post`, the server log's code_guessing_alarm lines, and a wrong
 * reset code for an address from an IP.
 */
export function withGuessingStack(options: Omit<TestStackOptions, "root" | "readyPath" | "env">, use: (stack: TestStack) => void) {
  let stack: TestStack;
  withTestStack(
    {
      root: process.cwd(),
      readyPath: "/login",
      ...options,
      env: { CODE_FAILURE_ALARM_PER_HOUR: String(ALARM_PER_HOUR), CODE_FAILURE_ALARM_DELAY_MS: "20" },
    },
    (started) => {
      stack = started;
      use(started);
    },
  );
  const { post } = httpClient(() => stack.app.url, clientAddresses());
  const serverLog = () => readFileSync(stack.logFile, "utf8");
  return {
    post,
    alarmEvents: () =>
      serverLog()
        .split("\n")
        .filter((line) => line.includes('"event":"code_guessing_alarm"')),
    guessReset: (email: string, ip: string) => post("/api/password-reset/confirm", { email, otp: "000000", password: NEW_PASSWORD }, { ip }),
  };
}
