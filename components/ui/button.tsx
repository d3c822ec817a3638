import type { ButtonHTMLAttributes } from "react";
import { cn } from "@/lib/web/cn";

const VARIANTS = {
  primary: "bg-primary text-primary-foreground shadow-xs hover:bg-primary/90",
  secondary: "border border-input bg-background shadow-xs hover:bg-muted",
  ghost: "hover:bg-muted",
  link: "h-auto px-0 underline underline-offset-4 hover:decoration-2",
} as const;

export type ButtonVariant = keyof typeof VARIANTS;

/** Button look, also for links that act as buttons (the landing page's). */
export function buttonClasses(variant: ButtonVariant = "primary", className?: string) {
  return cn(
    "inline-flex h-10 items-center justify-center gap-2 rounded-md px-4 text-sm font-medium whitespace-nowrap transition-colors",
    "focus-visible:outline-ring focus-visible:outline-2 focus-visible:outline-offset-2",
    "disabled:cursor-not-allowed disabled:opacity-60 aria-disabled:cursor-progress data-pending:opacity-80",
    VARIANTS[variant],
    className,
  );
}

export function Button({ variant = "primary", className, type = "button", ...props }: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant }) {
  return <button type={type} className={buttonClasses(variant, className)} {...props} />;
}
