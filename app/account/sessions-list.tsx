import { endOtherSessionsAction, endSessionAction } from "./session-actions";
import { Alert } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import type { SessionView } from "@/lib/sessions/session-list";

const NOTICES: Record<string, { tone: "success" | "error"; text: string }> = {
  ended: { tone: "success", text: "That session was ended. Its device is signed out." },
  "others-ended": { tone: "success", text: "Every other session was ended. Only this device is still signed in." },
  "not-found": { tone: "error", text: "That session had already ended." },
};

/** Where the person is signed in, from the sessions' rows: end one, or every other one. Plain forms: works without JavaScript. */
export function SessionsList({ sessions, notice }: { sessions: SessionView[]; notice?: string }) {
  const shown = notice ? NOTICES[notice] : undefined;
  const others = sessions.filter((s) => !s.current);
  return (
    <section id="sessions" aria-labelledby="sessions-heading" className="border-border mt-8 space-y-4 border-t pt-6">
      <h2 id="sessions-heading" className="text-lg font-semibold">
        Where you are signed in
      </h2>
      {shown ? (
        <Alert tone={shown.tone} data-testid="sessions-notice">
          {shown.text}
        </Alert>
      ) : null}
      <ul className="divide-border divide-y text-sm" data-testid="sessions-list">
        {sessions.map((s) => (
          <li key={s.id} className="space-y-1 py-3" data-testid="session" data-current={s.current ? "true" : undefined}>
            <p className="font-medium">
              {s.browser} on {s.system}
              {s.current ? <span className="bg-muted ml-2 rounded px-2 py-0.5 text-xs">This device</span> : null}
            </p>
            <p className="text-muted-foreground">
              Signed in <time dateTime={s.signedInAt}>{formatTime(s.signedInAt)}</time>, last active{" "}
              <time dateTime={s.lastActiveAt}>{formatTime(s.lastActiveAt)}</time>
            </p>
            <p className="text-muted-foreground">Network: {s.network ?? "unknown"} (approximate)</p>
            {s.current ? null : (
              <form action={endSessionAction}>
                <input type="hidden" name="sessionId" value={s.id} />
                <SubmitButton variant="secondary" pendingLabel="Ending…">
                  End session<span className="sr-only">{` ${s.browser} on ${s.system}, signed in ${formatTime(s.signedInAt)}`}</span>
                </SubmitButton>
              </form>
            )}
          </li>
        ))}
      </ul>
      {others.length > 0 ? (
        <form action={endOtherSessionsAction}>
          <SubmitButton variant="secondary" pendingLabel="Ending…" className="w-full">
            End all other sessions
          </SubmitButton>
        </form>
      ) : (
        <p className="text-muted-foreground text-sm">No other device is signed in.</p>
      )}
    </section>
  );
}

function formatTime(iso: string): string {
  return `${iso.replace("T", " ").slice(0, 16)} UTC`;
}
