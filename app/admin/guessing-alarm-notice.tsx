import { Alert } from "@/components/ui/alert";

/** The product-wide guessing alarm (lib/codes/guessing-alarm.ts), as the operators see it on /admin. */
export function GuessingAlarmNotice({ on, threshold, delayMs }: { on: boolean; threshold: number; delayMs: number }) {
  if (!on) return null;
  return (
    <Alert tone="error" data-testid="guessing-alarm">
      Guessing alarm: {threshold} or more wrong codes were entered in the last hour across all addresses, far above normal. Every code check now waits {delayMs}{" "}
      ms first; nobody is refused by it. Look for one network behind the failures in the log (rate_limited, verify_failed).
    </Alert>
  );
}
