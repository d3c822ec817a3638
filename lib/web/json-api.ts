import "server-only";
import { NextResponse } from "next/server";
import type * as z from "zod/mini";
import { getConfig } from "../platform/config";
import { fieldErrorsOf } from "../schemas";
import { OUTCOMES, waitMessage, type Outcome } from "./outcomes";
import { passwordQueueFull } from "../credentials/passwords";
import { StoreUnavailableError } from "../store/code-store";
import { databaseOutageOf, logDatabaseOutage } from "@/db/outage";

/** Helpers shared by the JSON API route handlers: one error shape, one body parser, one outage mapping. */

const MAX_BODY_BYTES = 16 * 1024;

export interface ApiErrorBody {
  error: {
    code: Outcome | "unsupported_media_type" | "payload_too_large" | "cross_site" | "unauthenticated" | "internal";
    message: string;
    fields?: Record<string, string>;
  };
}

export function apiError(
  code: Outcome,
  options: { message?: string; fields?: Record<string, string>; retryAfterSeconds?: number } = {},
): NextResponse<ApiErrorBody> {
  const { status, message } = OUTCOMES[code];
  const headers = options.retryAfterSeconds ? { "Retry-After": String(options.retryAfterSeconds) } : undefined;
  return NextResponse.json(
    { error: { code, message: options.message ?? message, ...(options.fields ? { fields: options.fields } : {}) } },
    { status, headers },
  );
}

function rawError(status: number, code: ApiErrorBody["error"]["code"], message: string) {
  return NextResponse.json<ApiErrorBody>({ error: { code, message } }, { status });
}

export function unauthenticated(): NextResponse<ApiErrorBody> {
  return rawError(401, "unauthenticated", "Log in first.");
}

/** The error response for a service's failed result. */
export function apiFailure(result: { reason: Outcome; retryAfterSeconds?: number; message?: string }): NextResponse<ApiErrorBody> {
  if (result.reason === "rate_limited" && result.retryAfterSeconds) {
    return apiError("rate_limited", { message: waitMessage(result.retryAfterSeconds), retryAfterSeconds: result.retryAfterSeconds });
  }
  if (result.reason === "weak_password" && result.message) return apiError("weak_password", { fields: { password: result.message } });
  return apiError(result.reason);
}

export function payloadTooLarge(): NextResponse<ApiErrorBody> {
  return rawError(413, "payload_too_large", "The body is too large.");
}

/**
 * The body as text, or null once it passes `maxBytes`: counted while it streams in and abandoned at the cap,
 * so a chunked body without Content-Length is never held whole (request.text() would buffer all of it first).
 */
export async function readBodyWithin(request: Request, maxBytes = MAX_BODY_BYTES): Promise<string | null> {
  if (Number(request.headers.get("content-length") ?? 0) > maxBytes) return null;
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads a JSON body (application/json only, size-capped) and parses it with a shared schema. */
export async function parseJsonBody<T extends z.ZodMiniType>(
  request: Request,
  schema: T,
): Promise<{ ok: true; data: z.infer<T> } | { ok: false; response: NextResponse }> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return { ok: false, response: rawError(415, "unsupported_media_type", "Send the body as application/json.") };
  }
  const text = await readBodyWithin(request, MAX_BODY_BYTES);
  if (text === null) return { ok: false, response: payloadTooLarge() };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, response: apiError("invalid_input", { message: "The body is not valid JSON." }) };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, response: apiError("invalid_input", { message: "The body must be a JSON object." }) };
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) return { ok: false, response: apiError("invalid_input", { fields: fieldErrorsOf(parsed.error) }) };
  return { ok: true, data: parsed.data };
}

/**
 * Refuses requests a browser marks as cross-site: a page elsewhere must not drive this API with the
 * visitor's cookies. Non-browser clients (curl, Postman) send neither header and pass.
 */
export function isCrossSite(request: Request, { trustProxy }: { trustProxy: boolean }): boolean {
  const site = request.headers.get("sec-fetch-site");
  if (site && site !== "same-origin" && site !== "none") return true;
  const origin = request.headers.get("origin");
  if (!origin) return false;
  // Anyone can send X-Forwarded-Host; only a proxy we were told to trust (TRUST_PROXY, Vercel) sets it for real.
  const host = (trustProxy ? request.headers.get("x-forwarded-host") : null) ?? request.headers.get("host");
  try {
    return origin === "null" || new URL(origin).host !== host;
  } catch {
    return true;
  }
}

/**
 * Wraps a state-changing handler: cross-site requests are refused, an outage becomes a calm 503 and
 * anything unexpected a bare 500, never a stack trace.
 */
export function jsonRoute(handler: (request: Request) => Promise<Response>) {
  return async (request: Request): Promise<Response> => {
    if (isCrossSite(request, getConfig())) return rawError(403, "cross_site", "Cross-site requests are not accepted.");
    try {
      return await handler(request);
    } catch (error) {
      if (error instanceof StoreUnavailableError) return apiError("store_unavailable");
      const busy = passwordQueueFull(error);
      if (busy) return apiError("busy", { retryAfterSeconds: busy.retryAfterSeconds });
      const outage = databaseOutageOf(error);
      if (outage) {
        logDatabaseOutage(outage, new URL(request.url).pathname);
        return apiError("database_unavailable");
      }
      console.error(JSON.stringify({ event: "api_error", type: error instanceof Error ? error.name : "unknown" }));
      return rawError(500, "internal", "Something went wrong on our side. Please try again.");
    }
  };
}

/** The account as the API shows it: no hash, no internal counters. */
export function publicUser(user: { id: string; email: string; name: string; role: string; emailVerifiedAt: Date | null }) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    emailVerifiedAt: user.emailVerifiedAt?.toISOString() ?? null,
  };
}
