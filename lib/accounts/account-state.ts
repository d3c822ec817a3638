import type { User } from "@/db/schema";

/** What a deactivated account is: its address was proven and an admin turned it off (an unproven one is merely not active yet). */
export function isDeactivated(user: Pick<User, "emailVerifiedAt" | "isActive">): boolean {
  return Boolean(user.emailVerifiedAt) && !user.isActive;
}
