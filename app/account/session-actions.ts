"use server";

import { redirect } from "next/navigation";
import { requireSession } from "@/lib/sessions/current-session";
import { getSessionList } from "@/lib/platform/runtime";

/* Ending one's own sessions from /account: thin adapters over lib/sessions/session-list.ts, working without JavaScript. */

export async function endSessionAction(formData: FormData): Promise<void> {
  const { userId, sessionId } = await requireSession();
  const id = String(formData.get("sessionId") ?? "").slice(0, 64);
  // This device is ended by logging out (its own button), so that the person is not left on a dead page.
  const result = id && id !== sessionId ? await (await getSessionList()).endOne(userId, id, Date.now()) : { ok: false };
  redirect(`/account?sessions=${result.ok ? "ended" : "not-found"}#sessions`);
}

export async function endOtherSessionsAction(): Promise<void> {
  const { userId, sessionId } = await requireSession();
  await (await getSessionList()).endOthers(userId, sessionId, Date.now());
  redirect("/account?sessions=others-ended#sessions");
}
