import type { HTMLAttributes } from "react";
import { cn } from "@/lib/cn";

const TONES = {
  error: "border-danger/40 bg-danger-surface text-danger",
  success: "border-success/40 bg-success-surface text-success",
  info: "border-info/40 bg-info-surface text-info",
} as const;

/** A message box. Errors are assertive alerts; the others polite status updates. */
export function Alert({ tone = "info", className, ...props }: HTMLAttributes<HTMLDivElement> & { tone?: keyof typeof TONES }) {
  return (
    <div
      role={tone === "error" ? "alert" : "status"}
      className={cn("rounded-md border px-4 py-3 text-sm", TONES[tone], className)}
      {...props}
    />
  );
}
