"use server";

import { requireSession } from "@/lib/sessions/current-session";
import { getSessionList } from "@/lib/platform/runtime";
import { actionContext, failure, refused, validatedAction } from "@/lib/web/form-actions";
import { endSessionSchema } from "@/lib/schemas";

/* Ending one's own sessions from /account: a thin adapter over lib/sessions/session-list.ts, working without JavaScript. */

/** The form's sessionId names another device's session, or is this value for every other one. */
const EVERY_OTHER = "others";

export const endSessionAction = validatedAction({
  signedIn: requireSession,
  schema: endSessionSchema,
  run: async ({ password, sessionId }, { values, user: { userId, sessionId: currentId } }) => {
    const list = await getSessionList();
    const request = { currentId, password, context: await actionContext() };
    // This device is ended by logging out (its own button), so that the person is not left on a dead page.
    if (sessionId === currentId) return failure("invalid_input", values, { message: "To end the session on this device, log out." });
    const result = sessionId === EVERY_OTHER ? await list.endOthers(userId, request, Date.now()) : await list.endOne(userId, sessionId, request, Date.now());
    if (result.ok) return { ok: true as const, notice: sessionId === EVERY_OTHER ? "others-ended" : "ended" };
    if (result.reason === "not_found") return { ok: true as const, notice: "not-found" };
    if (result.reason === "invalid_credentials") {
      return { ...refused(result, values), message: "Your password is not right.", fieldErrors: { password: "Your password is not right." } };
    }
    return refused(result, values);
  },
  done: ({ notice }) => `/account?sessions=${notice}#sessions`,
});
