import Link from "next/link";
import { buttonClasses } from "@/components/ui/button";

export default function LandingPage() {
  return (
    <div className="mx-auto flex max-w-2xl flex-1 flex-col items-center justify-center gap-6 px-4 py-16 text-center">
      <h1 className="text-4xl font-semibold tracking-tight sm:text-5xl">Verified Signup</h1>
      <p className="text-lg text-muted-foreground">
        Accounts that start with a proven email address: sign up, enter the 6-digit code we email you, and you are in.
      </p>
      <div className="flex flex-wrap justify-center gap-3">
        <Link href="/register" className={buttonClasses("primary")}>
          Create an account
        </Link>
        <Link href="/login" className={buttonClasses("secondary")}>
          Log in
        </Link>
      </div>
    </div>
  );
}
