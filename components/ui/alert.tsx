import type { HTMLAttributes } from "react";
import { cn } from "@/lib/web/cn";

const TONES = {
  error: "border-danger/30 bg-danger-surface text-danger-foreground",
  success: "border-success/30 bg-success-surface text-success-foreground",
  info: "border-info/30 bg-info-surface text-info-foreground",
} as const;

/** A message box. Errors are assertive alerts; the others polite status updates. */
export function Alert({ tone = "info", className, ...props }: HTMLAttributes<HTMLDivElement> & { tone?: keyof typeof TONES }) {
  return (
    <div role={tone === "error" ? "alert" : "status"} className={cn("rounded-lg border px-4 py-3 text-sm leading-6", TONES[tone], className)} {...props} />
  );
}
