"use client";

import { useEffect, useState, type InputHTMLAttributes, type Ref } from "react";
import { cn } from "@/lib/web/cn";
import { Input } from "./input";

/**
 * A password input with a show/hide toggle. The toggle needs JavaScript, so it appears once the page is
 * live; without JavaScript the field is a plain password field.
 */
export function PasswordInput({ ref, className, ...props }: InputHTMLAttributes<HTMLInputElement> & { ref?: Ref<HTMLInputElement> }) {
  const [visible, setVisible] = useState(false);
  const [live, setLive] = useState(false);
  useEffect(() => setLive(true), []);
  return (
    <div className="relative">
      <Input ref={ref} type={visible ? "text" : "password"} className={cn("pr-18", className)} {...props} />
      {live ? (
        <button
          type="button"
          onClick={() => setVisible((v) => !v)}
          aria-controls={props.id}
          className="text-muted-foreground hover:bg-muted hover:text-foreground focus-visible:outline-ring absolute inset-y-1 right-1 rounded px-3 text-xs font-medium focus-visible:outline-2"
        >
          {visible ? "Hide" : "Show"}
          <span className="sr-only"> password</span>
        </button>
      ) : null}
    </div>
  );
}
