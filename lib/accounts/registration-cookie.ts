import "server-only";
import { cookies } from "next/headers";
import { getConfig } from "../platform/config";
import { REGISTRATION_LIFETIME_MS } from "./registrations";

/**
 * The registration token of the signup this browser made (lib/accounts/registrations.ts): HttpOnly, so page
 * scripts never see it; SameSite=Lax and the __Host- prefix on https, so no other site or subdomain can
 * plant one. It only ever applies details its own signup chose, and only together with the emailed code.
 */
const cookieName = () => (getConfig().auth.secureCookies ? "__Host-registration" : "registration");

export async function rememberRegistration(token: string): Promise<void> {
  (await cookies()).set(cookieName(), token, {
    httpOnly: true,
    sameSite: "lax",
    secure: getConfig().auth.secureCookies,
    path: "/",
    maxAge: REGISTRATION_LIFETIME_MS / 1000,
  });
}

export async function registrationFromCookie(): Promise<string | undefined> {
  return (await cookies()).get(cookieName())?.value;
}
