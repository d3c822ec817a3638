import type { LabelHTMLAttributes } from "react";
import { cn } from "@/lib/web/cn";

export function Label({ className, ...props }: LabelHTMLAttributes<HTMLLabelElement>) {
  return <label className={cn("text-sm leading-5 font-medium", className)} {...props} />;
}
