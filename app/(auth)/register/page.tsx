import type { Metadata } from "next";
import { AuthShell } from "@/components/auth-shell";
import { RegisterForm } from "./register-form";
import { getConfig } from "@/lib/platform/config";

export const metadata: Metadata = { title: "Create an account" };

export default function RegisterPage() {
  return (
    <AuthShell
      title="Create an account"
      description="We will email you a 6-digit code to confirm your address."
      footer={
        <>
          Already have an account?{" "}
          <a href="/login" className="text-foreground font-medium underline underline-offset-4">
            Log in
          </a>
        </>
      }
    >
      <RegisterForm passwordMinLength={getConfig().passwordMinLength} />
    </AuthShell>
  );
}
