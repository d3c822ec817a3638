import Link from "next/link";
import { endSessionAction } from "./session-actions";
import { FieldsForm } from "@/components/forms/fields-form";
import { Alert } from "@/components/ui/alert";
import { buttonClasses } from "@/components/ui/button";
import type { SessionView } from "@/lib/sessions/session-list";
import { entryFor } from "@/lib/web/search-params";
import { EVERY_OTHER_SESSION as EVERY_OTHER } from "@/lib/schemas";

const NOTICES: Record<string, { tone: "success" | "error"; text: string }> = {
  ended: { tone: "success", text: "That session was ended. Its device is signed out." },
  "others-ended": { tone: "success", text: "Every other session was ended. Only this device is still signed in." },
  "not-found": { tone: "error", text: "That session had already ended." },
  "this-device": { tone: "error", text: "To end the session on this device, log out." },
};

/**
 * Where the person is signed in, from the sessions' rows: end one, or every other one, after typing the
 * password again (`?end=<id>` or `?end=others` shows that step). Links and plain forms: works without JavaScript.
 */
export function SessionsList({
  sessions,
  notice,
  ending,
  hasPassword,
}: {
  sessions: SessionView[];
  notice?: string;
  /** The session chosen to end, or "others". */
  ending?: string;
  hasPassword: boolean;
}) {
  const others = sessions.filter((s) => !s.current);
  const target = ending === EVERY_OTHER ? EVERY_OTHER : others.find((s) => s.id === ending);
  const thisDevice = sessions.find((s) => s.current)?.id;
  const refusedEnding = ending && !target ? (ending === thisDevice ? "this-device" : "not-found") : undefined;
  const shown = entryFor(NOTICES, notice ?? refusedEnding);
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
      {target && (target !== EVERY_OTHER || others.length > 0) ? <ConfirmEnding target={target} hasPassword={hasPassword} /> : null}
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
              <Link href={`/account?end=${encodeURIComponent(s.id)}`} className={buttonClasses("secondary")}>
                End session<span className="sr-only">{` ${sessionLabel(s)}`}</span>
              </Link>
            )}
          </li>
        ))}
      </ul>
      {others.length > 0 ? (
        <Link href={`/account?end=${EVERY_OTHER}`} className={buttonClasses("secondary", "w-full")}>
          End all other sessions
        </Link>
      ) : (
        <p className="text-muted-foreground text-sm">No other device is signed in.</p>
      )}
    </section>
  );
}

/** The step before ending: which session, and the password typed again (an account without one chooses one first). */
function ConfirmEnding({ target, hasPassword }: { target: SessionView | typeof EVERY_OTHER; hasPassword: boolean }) {
  const everyOther = target === EVERY_OTHER;
  return (
    <div id="end-session" className="border-border space-y-3 rounded-md border p-4" data-testid="end-session">
      <h3 className="font-medium">{everyOther ? "End every other session" : `End the session of ${sessionLabel(target)}`}</h3>
      {hasPassword ? (
        <FieldsForm
          key={everyOther ? EVERY_OTHER : target.id}
          idPrefix="end-session-"
          // The browser checks the password field; the server checks the whole form (endSessionSchema).
          schema="password"
          action={endSessionAction}
          fields={[
            { name: "sessionId", label: "Session", kind: "hidden", value: everyOther ? EVERY_OTHER : target.id },
            {
              name: "password",
              label: "Your password",
              kind: "current-password",
              hint: "Typed again, so that only you can sign your devices out.",
              autoFocus: true,
            },
          ]}
          submitLabel={everyOther ? "End every other session" : "End that session"}
          pendingLabel="Ending…"
          footer={
            <Link href="/account#sessions" className="text-sm font-medium underline underline-offset-4">
              Cancel
            </Link>
          }
        />
      ) : (
        <p className="text-sm">
          Ending sessions asks for your password, and this account has none yet. Choose one above: that also signs out every other session.
        </p>
      )}
    </div>
  );
}

function sessionLabel(s: SessionView): string {
  return `${s.browser} on ${s.system}, signed in ${formatTime(s.signedInAt)}`;
}

function formatTime(iso: string): string {
  return `${iso.replace("T", " ").slice(0, 16)} UTC`;
}
