"use server";

import { redirect } from "next/navigation";
import * as z from "zod/mini";
import { ROLES } from "@/db/schema";
import { createUserAdministration, parseUserListQuery, userListSearch, type AdminActionResult } from "@/lib/admin";
import { requireStaff, requireStaffForEnrolment } from "@/lib/admin-access";
import { signOut } from "@/lib/auth";
import type { FormState } from "@/lib/form-state";
import { getCodeStore } from "@/lib/runtime";
import { bumpSessionVersion } from "@/lib/sessions";

/* Server actions of the staff area: thin adapters over lib/totp.ts and lib/admin.ts, each behind the gate. */

const authenticatorCode = z.string().check(
  z.overwrite((v) => v.replace(/[\s-]/g, "")),
  z.regex(/^\d{6}$/, "Enter the 6-digit code your authenticator app shows."),
);

/** Confirms the enrolment; then every session ends (this one too) and the person logs in again with a code. */
export async function confirmEnrolmentAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const { user, db, secondFactor } = await requireStaffForEnrolment();
  const parsed = authenticatorCode.safeParse(formData.get("code") ?? "");
  if (!parsed.success) return { ok: false, fieldErrors: { code: parsed.error.issues[0]!.message } };
  const result = await secondFactor.confirmEnrolment(user.id, parsed.data);
  if (!result.ok) {
    const message =
      result.reason === "wrong_code"
        ? "That code is not right. Check that the app's clock is set automatically, and enter the code it shows now."
        : "Two-factor authentication is already on for this account.";
    return { ok: false, fieldErrors: { code: message } };
  }
  await bumpSessionVersion(db, await getCodeStore(), user.id);
  await signOut({ redirectTo: `/login?mfa=on&email=${encodeURIComponent(user.email)}` });
  return { ok: true };
}

/** A new secret (and new recovery codes) in place of the pending ones. */
export async function restartEnrolmentAction(): Promise<void> {
  const { user, secondFactor } = await requireStaffForEnrolment();
  await secondFactor.restartEnrolment(user.id);
  redirect("/admin/enroll");
}

// ---- Users -----------------------------------------------------------------------------------------------

/** Back to the list as it was (filters and page), with the outcome; the search string is rebuilt, never echoed. */
function backToList(formData: FormData, result: AdminActionResult, done: string): never {
  const returnTo = formData.get("returnTo");
  const query = parseUserListQuery(Object.fromEntries(new URLSearchParams(typeof returnTo === "string" ? returnTo : "")));
  const search = userListSearch(query);
  redirect(`/admin${search}${search ? "&" : "?"}result=${result.ok ? done : result.reason}#users`);
}

function userIdOf(formData: FormData): string {
  const value = formData.get("userId");
  return typeof value === "string" ? value.slice(0, 64) : "";
}

async function administration() {
  const { user, db } = await requireStaff();
  return { actor: { id: user.id, role: user.role }, admin: createUserAdministration({ db, store: await getCodeStore() }) };
}

export async function changeRoleAction(formData: FormData): Promise<void> {
  const { actor, admin } = await administration();
  const role = formData.get("role");
  const result = (ROLES as readonly unknown[]).includes(role)
    ? await admin.changeRole(actor, userIdOf(formData), role as (typeof ROLES)[number])
    : ({ ok: false, reason: "unchanged" } as const);
  backToList(formData, result, "role_changed");
}

export async function setActiveAction(formData: FormData): Promise<void> {
  const { actor, admin } = await administration();
  const active = formData.get("active") === "true";
  const result = await admin.setActive(actor, userIdOf(formData), active);
  backToList(formData, result, active ? "reactivated" : "deactivated");
}

export async function signOutEverywhereAction(formData: FormData): Promise<void> {
  const { actor, admin } = await administration();
  const result = await admin.signOutEverywhere(actor, userIdOf(formData));
  backToList(formData, result, "signed_out");
}
