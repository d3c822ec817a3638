"use server";

import { requireSession } from "@/lib/sessions/current-session";
import { getSessionList } from "@/lib/platform/runtime";
import { actionContext, failure, passwordRefusal, validatedAction } from "@/lib/web/form-actions";
import { endSessionSchema, EVERY_OTHER_SESSION } from "@/lib/schemas";

/* Ending one's own sessions from /account: a thin adapter over lib/sessions/session-list.ts, working without JavaScript. */

export const endSessionAction = validatedAction({
  signedIn: requireSession,
  schema: endSessionSchema,
  run: async ({ password, sessionId }, { values, user: { userId, sessionId: currentId } }) => {
    // This device is ended by logging out (its own button), so that the person is not left on a dead page.
    if (sessionId === currentId) return failure("invalid_input", values, { message: "To end the session on this device, log out." });
    const list = await getSessionList();
    const request = { currentId, password, context: await actionContext() };
    const everyOther = sessionId === EVERY_OTHER_SESSION;
    const result = everyOther ? await list.endOthers(userId, request, Date.now()) : await list.endOne(userId, sessionId, request, Date.now());
    if (result.ok) return { ok: true as const, notice: everyOther ? "others-ended" : "ended" };
    if (result.reason === "not_found") return { ok: true as const, notice: "not-found" };
    return passwordRefusal(result, values);
  },
  done: ({ notice }) => `/account?sessions=${notice}#sessions`,
});
