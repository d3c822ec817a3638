import "server-only";
import { auth } from "./auth";

/** The signed-in user's id for the JSON API, or undefined (the route answers 401). */
export async function signedInUserId(): Promise<string | undefined> {
  const session = await auth();
  return session?.user?.id;
}
