"use server";

import { redirect } from "next/navigation";
import { currentSession } from "@/lib/sessions/current-session";
import { getSessionList } from "@/lib/platform/runtime";

/* Ending one's own sessions from /account: thin adapters over lib/sessions/session-list.ts, working without JavaScript. */

async function signedIn() {
  const session = await currentSession();
  if (!session) redirect("/login");
  return session;
}

export async function endSessionAction(formData: FormData): Promise<void> {
  const { userId, sessionId } = await signedIn();
  const id = String(formData.get("sessionId") ?? "").slice(0, 64);
  // This device is ended by logging out (its own button), so that the person is not left on a dead page.
  const result = id && id !== sessionId ? await (await getSessionList()).endOne(userId, id, Date.now()) : { ok: false };
  redirect(`/account?sessions=${result.ok ? "ended" : "not-found"}#sessions`);
}

export async function endOtherSessionsAction(): Promise<void> {
  const { userId, sessionId } = await signedIn();
  await (await getSessionList()).endOthers(userId, sessionId, Date.now());
  redirect("/account?sessions=others-ended#sessions");
}
