import { NextRequest } from "next/server";
import { handlers } from "@/lib/auth";
import { payloadTooLarge, readBodyWithin } from "@/lib/http";

export const { GET } = handlers;

/** Auth.js reads its form bodies whole: they are read here first, within the same 16 kB cap as the JSON API. */
export async function POST(request: NextRequest): Promise<Response> {
  const body = await readBodyWithin(request);
  if (body === null) return payloadTooLarge();
  return handlers.POST(new NextRequest(request.url, { method: "POST", headers: request.headers, body }));
}
