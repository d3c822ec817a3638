import { AuthShell } from "@/components/auth-shell";

/** Rendered with status 403 by forbidden() (experimental.authInterrupts in next.config.mjs). */
export default function Forbidden() {
  return (
    <AuthShell title="Not allowed" description="This area is for staff only.">
      <p className="text-sm">
        Your account cannot open this page.{" "}
        <a href="/account" className="font-medium underline underline-offset-4">
          Go to your account
        </a>
      </p>
    </AuthShell>
  );
}
