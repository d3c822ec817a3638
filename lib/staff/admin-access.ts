import "server-only";
import { forbidden, redirect } from "next/navigation";
import type { User } from "@/db/schema";
import { decideAdminAccess } from "./admin";
import { requireSession, type SignedIn } from "../sessions/current-session";
import { logAuthEvent } from "../platform/log";
import { getStaffArea, type StaffArea } from "../platform/runtime";
import { needsSecondFactor } from "../credentials/totp";

/**
 * The gate every /admin page and server action passes (server-only: it reads the session and may
 * answer with a redirect or a 403). The decision itself is lib/staff/admin.ts decideAdminAccess.
 */

export interface StaffContext extends StaffArea {
  user: User;
  /** The session was opened with the second factor. */
  mfa: boolean;
}

async function signedInUser(): Promise<{ session: SignedIn; user: User | undefined; staff: StaffArea }> {
  const session = await requireSession();
  // Wiring the staff area installs the audit log: admin actions are recorded in auth_events.
  const staff = await getStaffArea();
  return { session, user: await staff.findUser(session.userId), staff };
}

function refuse(userId: string): never {
  // Failed authorization attempts are logged (ASVS 16.3.2).
  logAuthEvent("admin_forbidden", { userId });
  forbidden();
}

/** /admin and its actions: staff or admin, with a session opened with the second factor. */
export async function requireStaff(): Promise<StaffContext> {
  const { session, user, staff } = await signedInUser();
  const enabled = user && needsSecondFactor(user.role) ? await staff.secondFactor.isEnabled(user.id) : false;
  const access = decideAdminAccess(session, user, enabled);
  switch (access.kind) {
    case "ok":
      return { ...staff, user: user!, mfa: true };
    case "sign_in":
      redirect("/login");
    case "forbidden":
      refuse(session.userId);
    case "enrol":
    case "reauthenticate":
      redirect("/admin/enroll");
  }
}

/** /admin/enroll: any staff or admin session of a verified address, with or without the second factor yet. */
export async function requireStaffForEnrolment(): Promise<StaffContext> {
  const { session, user, staff } = await signedInUser();
  if (!user || !user.isActive || !user.emailVerifiedAt) redirect("/login");
  if (!needsSecondFactor(user.role) || !needsSecondFactor(session.role)) refuse(session.userId);
  return { ...staff, user, mfa: session.mfa };
}
