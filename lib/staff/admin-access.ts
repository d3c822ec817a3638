import "server-only";
import type { Session } from "next-auth";
import { forbidden, redirect } from "next/navigation";
import { getDatabase, type Database } from "@/db/client";
import type { User } from "@/db/schema";
import { findUserById } from "@/db/users";
import { decideAdminAccess } from "./admin";
import { installAuditLog } from "../platform/audit";
import { auth } from "../sessions/auth";
import { getConfig } from "../platform/config";
import { logAuthEvent } from "../platform/log";
import { createSecondFactor, needsSecondFactor, type SecondFactor } from "../credentials/totp";

/**
 * The gate every /admin page and server action passes (server-only: it reads the session and may
 * answer with a redirect or a 403). The decision itself is lib/staff/admin.ts decideAdminAccess.
 */

export interface StaffContext {
  user: User;
  db: Database;
  secondFactor: SecondFactor;
  /** The session was opened with the second factor. */
  mfa: boolean;
}

async function signedInUser(): Promise<{ session: Session; user: User | undefined; db: Database }> {
  const session = await auth();
  if (!session?.user?.id) redirect("/login");
  const db = await getDatabase();
  // Admin actions are recorded in auth_events even if no other service has started in this process yet.
  installAuditLog(db);
  return { session, user: await findUserById(db, session.user.id), db };
}

function refuse(userId: string): never {
  // Failed authorization attempts are logged (ASVS 16.3.2).
  logAuthEvent("admin_forbidden", { userId });
  forbidden();
}

/** /admin and its actions: staff or admin, with a session opened with the second factor. */
export async function requireStaff(): Promise<StaffContext> {
  const { session, user, db } = await signedInUser();
  const secondFactor = createSecondFactor({ db, config: getConfig() });
  const enabled = user && needsSecondFactor(user.role) ? await secondFactor.isEnabled(user.id) : false;
  const access = decideAdminAccess(session.user, user, enabled);
  switch (access.kind) {
    case "ok":
      return { user: user!, db, secondFactor, mfa: true };
    case "sign_in":
      redirect("/login");
    case "forbidden":
      refuse(session.user.id);
    case "enrol":
    case "reauthenticate":
      redirect("/admin/enroll");
  }
}

/** /admin/enroll: any staff or admin session of a verified address, with or without the second factor yet. */
export async function requireStaffForEnrolment(): Promise<StaffContext> {
  const { session, user, db } = await signedInUser();
  if (!user || !user.isActive || !user.emailVerifiedAt) redirect("/login");
  if (!needsSecondFactor(user.role) || !needsSecondFactor(session.user.role)) refuse(session.user.id);
  return { user, db, secondFactor: createSecondFactor({ db, config: getConfig() }), mfa: session.user.mfa === true };
}
