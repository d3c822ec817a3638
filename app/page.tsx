import { buttonClasses } from "@/components/ui/button";

const STEPS = [
  ["Sign up", "Name, email and a password."],
  ["Enter the code", "Six digits, sent to your inbox."],
  ["Log in", "Your account is active."],
] as const;

export default function LandingPage() {
  return (
    <div className="mx-auto flex w-full max-w-3xl flex-1 flex-col justify-center gap-10 px-4 py-14 sm:py-20">
      <div className="space-y-5 text-center">
        <h1 className="text-4xl font-semibold tracking-tight text-balance sm:text-5xl">Verified Signup</h1>
        <p className="text-muted-foreground mx-auto max-w-xl text-lg leading-8 text-pretty">
          Accounts that start with a proven email address: sign up, enter the 6-digit code we email you, and you are in.
        </p>
        <div className="flex flex-col justify-center gap-3 pt-2 sm:flex-row">
          <a href="/register" className={buttonClasses("primary", "h-11 px-6")}>
            Create an account
          </a>
          <a href="/login" className={buttonClasses("secondary", "h-11 px-6")}>
            Log in
          </a>
        </div>
      </div>
      <ol className="grid gap-3 sm:grid-cols-3">
        {STEPS.map(([title, text], index) => (
          <li key={title} className="border-border bg-card rounded-xl border p-4">
            <p className="text-sm font-medium">
              <span className="text-muted-foreground mr-2 tabular-nums">{index + 1}.</span>
              {title}
            </p>
            <p className="text-muted-foreground mt-1 text-sm">{text}</p>
          </li>
        ))}
      </ol>
    </div>
  );
}
