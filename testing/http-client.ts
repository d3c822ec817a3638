import { afterAll, beforeAll, expect } from "vitest";
import { startTestStack, type TestStack, type TestStackOptions } from "@/testing/services/app-server";
import { extractCode } from "@/testing/mailbox";
import type { SmtpSink } from "@/testing/services/smtp-sink";
import { uniqueEmail } from "./people";

/**
 * Requests to a running app for the HTTP tests (tests/http/): each from the client address the
 * caller's `nextIp` gives (the app runs with TRUST_PROXY=true), redirects not followed, the body read as text
 * and, when it parses, as JSON.
 */

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function reply(res: Response): Promise<Reply> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export interface PostOptions {
  headers?: Record<string, string>;
  /** Sent as the body instead of JSON.stringify(body). */
  raw?: string;
  /** The client address; default nextIp(). */
  ip?: string;
  cookie?: string;
}

/** Starts the app stack (startTestStack) before the file's tests, hands it to `use`, and stops it after them. */
export function withTestStack(options: TestStackOptions, use: (stack: TestStack) => void): void {
  let stack: TestStack | undefined;
  beforeAll(async () => {
    stack = await startTestStack(options);
    use(stack);
  }, 240_000);
  afterAll(async () => {
    await stack?.stop();
  }, 30_000);
}

/** Registers over the API, reads the code at the sink and verifies it: the verify-otp reply (asserted 200). */
export async function registerAndVerify(
  post: ReturnType<typeof httpClient>["post"],
  sink: SmtpSink,
  person: { email: string; password: string; name?: string },
): Promise<Reply> {
  const before = Date.now();
  const r = await post("/api/register", { name: person.name ?? "Ada Lovelace", email: person.email, password: person.password });
  expect(r.status, r.text).toBe(201);
  const code = extractCode(await sink.waitForMail(person.email, { after: before - 1 }));
  const verified = await post("/api/verify-otp", { email: person.email, otp: code, registration: r.json.registration });
  expect(verified.status, verified.text).toBe(200);
  return verified;
}

/** Registers and verifies a fresh address made from `label`: the address and the verify-otp reply. */
export async function verifiedAddress(
  post: ReturnType<typeof httpClient>["post"],
  sink: SmtpSink,
  label: string,
  password: string,
): Promise<{ email: string; verify: Reply }> {
  const email = uniqueEmail(label);
  return { email, verify: await registerAndVerify(post, sink, { email, password }) };
}

/** Auth.js's session cookie, chunked or not, with or without a __Host- / __Secure- prefix. */
export const SESSION_COOKIE = /^(__Host-|__Secure-)?authjs\.session-token(\.\d+)?$/;

/** name=value of each non-empty Set-Cookie the response carries whose name matches `name`, as a Cookie header ("" when none). */
export function cookieHeaderOf(headers: Headers, name: RegExp): string {
  return headers
    .getSetCookie()
    .map((raw) => raw.split(";")[0] ?? "")
    .filter((pair) => name.test(pair.slice(0, pair.indexOf("="))) && pair.slice(pair.indexOf("=") + 1) !== "")
    .join("; ");
}

/** The session cookie(s) a response set, as a Cookie header ("" when none). */
export const sessionCookieOf = (headers: Headers): string => cookieHeaderOf(headers, SESSION_COOKIE);

/** A fresh client address per call, from 10.0.0.0/8 (each test file runs its own server). */
export function clientAddresses(): () => string {
  let n = 0;
  return () => {
    n += 1;
    return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  };
}

/** post and get against `baseUrl()` (read at each request: the app starts in beforeAll). */
export function httpClient(baseUrl: () => string, nextIp: () => string) {
  async function post(path: string, body: unknown, options: PostOptions = {}): Promise<Reply> {
    const res = await fetch(`${baseUrl()}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-forwarded-for": options.ip ?? nextIp(),
        ...(options.cookie ? { cookie: options.cookie } : {}),
        ...options.headers,
      },
      body: options.raw ?? JSON.stringify(body),
      redirect: "manual",
    });
    return reply(res);
  }

  async function get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
    return reply(await fetch(`${baseUrl()}${path}`, { headers: { "x-forwarded-for": nextIp(), ...headers }, redirect: "manual" }));
  }

  /** A form post (application/x-www-form-urlencoded); the body is read as text only. */
  async function postForm(path: string, fields: Record<string, string>, cookie: string): Promise<Reply> {
    const res = await fetch(`${baseUrl()}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie, "x-forwarded-for": nextIp() },
      body: new URLSearchParams(fields).toString(),
      redirect: "manual",
    });
    return { status: res.status, headers: res.headers, text: await res.text(), json: undefined };
  }

  return { post, get, postForm };
}

/** Asks `path` for a code to `to` (asserted 200) and returns the code mailed with a subject matching `subject`. */
export async function mailedCode(
  post: ReturnType<typeof httpClient>["post"],
  sink: SmtpSink,
  request: { path: string; body: Record<string, string>; cookie?: string },
  to: string,
  subject: RegExp,
): Promise<string> {
  const before = Date.now();
  const r = await post(request.path, request.body, { cookie: request.cookie });
  expect(r.status, r.text).toBe(200);
  return extractCode(await sink.waitForMail(to, { after: before - 1, predicate: (m) => subject.test(m.subject) }));
}

const ERROR_KEYS = new Set(["code", "message", "fields"]);

/** `{ error: { code, message, fields? } }` and nothing else; no stack trace or file path anywhere. */
export function expectErrorShape(r: Reply, code?: string) {
  expect(r.headers.get("content-type") ?? "", r.text).toMatch(/^application\/json/);
  expect(Object.keys(r.json ?? {}), r.text).toEqual(["error"]);
  const { error } = r.json;
  expect(typeof error.code, r.text).toBe("string");
  expect(typeof error.message, r.text).toBe("string");
  expect(error.message.length).toBeGreaterThan(0);
  expect(
    Object.keys(error).filter((k) => !ERROR_KEYS.has(k)),
    r.text,
  ).toEqual([]);
  if ("fields" in error) {
    expect(typeof error.fields).toBe("object");
    for (const value of Object.values(error.fields)) expect(typeof value).toBe("string");
  }
  expect(r.text).not.toMatch(/\bat .+\(.*:\d+:\d+\)|node_modules|\/work\/|\.next\/server|Error:/);
  if (code) expect(error.code, r.text).toBe(code);
}

/** A JSON object as text, so "__proto__" stays an own key (an object literal would set the prototype instead). */
export function objectText(fields: Record<string, unknown>, extra: Array<[string, unknown]>): string {
  const parts = Object.entries(fields).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? "null"}`);
  for (const [k, v] of extra) parts.push(`${JSON.stringify(k)}:${JSON.stringify(v) ?? "null"}`);
  return `{${parts.join(",")}}`;
}
