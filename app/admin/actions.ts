"use server";

import { redirect } from "next/navigation";
import * as z from "zod/mini";
import { withoutSeparators } from "@/lib/form-rules";
import { ROLES } from "@/db/schema";
import { parseUserListQuery, userListSearch, type AdminActionResult } from "@/lib/staff/admin";
import { requireStaff, requireStaffForEnrolment } from "@/lib/staff/admin-access";
import { signOut } from "@/lib/sessions/auth";
import type { FormState } from "@/lib/web/form-state";
import type { EnrolmentRefusal } from "@/lib/credentials/totp";

/* Server actions of the staff area: thin adapters over lib/credentials/totp.ts and lib/staff/admin.ts, each behind the gate. */

const authenticatorCode = z.string().check(z.overwrite(withoutSeparators), z.regex(/^\d{6}$/, "Enter the 6-digit code your authenticator app shows."));

const enrolmentCode = z.string().check(
  z.overwrite((v) => withoutSeparators(v).toLowerCase()),
  z.regex(/^[a-z0-9]{10}$/, "Enter the enrolment code the operator gave you (ten letters and digits)."),
);

const ASK_OPERATOR = "Ask an operator for a new one (npm run create-admin prints it).";

const ENROLMENT_REFUSALS: Record<EnrolmentRefusal, { field: "code" | "enrolmentCode"; message: string }> = {
  wrong_code: { field: "code", message: "That code is not right. Check that the app's clock is set automatically, and enter the code it shows now." },
  not_pending: { field: "code", message: "Two-factor authentication is already on for this account." },
  enrolment_code_wrong_code: { field: "enrolmentCode", message: "That enrolment code is not right. Check it with the operator who gave it to you." },
  enrolment_code_used_up: { field: "enrolmentCode", message: `That enrolment code no longer works after too many wrong tries. ${ASK_OPERATOR}` },
  enrolment_code_none: { field: "enrolmentCode", message: `No enrolment code is waiting for this account (it was used, or it expired). ${ASK_OPERATOR}` },
};

/** Confirms the enrolment; then every session ends (this one too) and the person logs in again with a code. */
export async function confirmEnrolmentAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const { user, secondFactor, endSessions } = await requireStaffForEnrolment();
  const code = authenticatorCode.safeParse(formData.get("code") ?? "");
  const enrolment = enrolmentCode.safeParse(formData.get("enrolmentCode") ?? "");
  if (!code.success || !enrolment.success) {
    const fieldErrors: Record<string, string> = {};
    if (!enrolment.success) fieldErrors.enrolmentCode = enrolment.error.issues[0]!.message;
    if (!code.success) fieldErrors.code = code.error.issues[0]!.message;
    return { ok: false, fieldErrors };
  }
  const result = await secondFactor.confirmEnrolment(user.id, code.data, enrolment.data);
  if (!result.ok) {
    const { field, message } = ENROLMENT_REFUSALS[result.reason];
    return { ok: false, fieldErrors: { [field]: message } };
  }
  await endSessions(user.id);
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
  const { user, administration } = await requireStaff();
  return { actor: { id: user.id, role: user.role }, admin: administration };
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
