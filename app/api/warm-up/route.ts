import { after } from "next/server";
import { isOwnWarmUp, warmUpSignup } from "@/lib/platform/signup-warm-up";
import { WARM_UP_HEADER } from "@/lib/platform/warm-up";

export const dynamic = "force-dynamic";

/** The process's own warm-up after its first page (lib/platform/warm-up.ts); anyone else gets a plain 404. */
export async function POST(request: Request): Promise<Response> {
  if (!isOwnWarmUp(request.headers.get(WARM_UP_HEADER))) return new Response("Not found", { status: 404, headers: { "Cache-Control": "no-store" } });
  after(warmUpSignup);
  return new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } });
}
