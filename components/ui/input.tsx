import type { InputHTMLAttributes, Ref } from "react";
import { cn } from "@/lib/web/cn";

export function Input({ className, ref, ...props }: InputHTMLAttributes<HTMLInputElement> & { ref?: Ref<HTMLInputElement> }) {
  return (
    <input
      ref={ref}
      className={cn(
        // 16 px text on phones keeps iOS from zooming into the field.
        "border-input bg-background block h-11 w-full min-w-0 rounded-md border px-3 text-base shadow-xs sm:h-10 sm:text-sm",
        "placeholder:text-muted-foreground focus-visible:border-ring focus-visible:outline-ring focus-visible:outline-2 focus-visible:outline-offset-0",
        "aria-invalid:border-danger aria-invalid:focus-visible:outline-danger disabled:cursor-not-allowed disabled:opacity-60",
        className,
      )}
      {...props}
    />
  );
}
