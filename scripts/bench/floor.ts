/**
 * The framework's own floor, measured in the same run (`npm run bench`, phase group "floor"): a minimal
 * Next.js app built with this project's Next and React, served by `next start` like the product, with the
 * product's security headers set the same way (lib/web/security-headers.mjs): static for the API from next.config,
 * from a proxy with a fresh nonce for pages (lib/web/page-response.ts, as proxy.ts does).
 *
 *   POST /api/noop   reads a JSON body and answers JSON: what any route handler costs before it does anything
 *   GET  /dynamic    a small form page rendered per request with the CSP nonce, as every product page is
 *   GET  /static     the same page prerendered at build time
 *   POST /api/argon2 reads a JSON body, checks its password with one Argon2id verify (the product's parameters, as
 *                    many in flight as cores, as lib/credentials/passwords.ts) and answers JSON: what a login costs
 *                    any Next app before it looks anything up, signs anyone in or writes anything
 *
 * Targets below these floors cannot be met by this product's code, whatever it does.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

export const FLOOR_PATHS = { api: "/api/noop", argon2: "/api/argon2", dynamicPage: "/dynamic", staticPage: "/static" } as const;

/** The password whose hash the floor's Argon2id route checks. */
export const FLOOR_PASSWORD = "floor: one Argon2id verify per request";

/** Writes the floor app into `dir` (inside the project, so it resolves the project's node_modules). */
export function writeFloorApp(dir: string, projectRoot: string): void {
  rmSync(dir, { recursive: true, force: true });
  const from = (folder: string, file: string) => relative(join(dir, folder), join(projectRoot, file)).split("\\").join("/");
  const fromHere = (file: string) => from(".", file);
  const headersModule = fromHere("lib/web/security-headers.mjs");
  const pageModule = fromHere("lib/web/page-response");
  const passwordsModule = from("app/api/argon2", "lib/credentials/passwords");
  const argon2Module = from("app/api/argon2", "lib/credentials/argon2-parameters");
  const files: Record<string, string> = {
    "package.json": JSON.stringify({ name: "bench-floor", private: true }),
    "next.config.mjs": `import { securityHeaders } from "${headersModule}";

const api = Object.entries(securityHeaders({ isProduction: true })).map(([key, value]) => ({ key, value }));
export default { reactStrictMode: true, poweredByHeader: false, headers: async () => [{ source: "/api/:path*", headers: api }] };
`,
    // Without one of its own, the build picks up the project's instrumentation.ts (its start-up checks).
    "instrumentation.js": "export function register() {}\n",
    "proxy.js": `import { pageWithNonce } from "${pageModule}";

export function proxy(request) {
  return pageWithNonce(request, true);
}

export const config = { matcher: ["/((?!api/|_next/static|_next/image|favicon.ico).*)"] };
`, // the product's matcher (proxy.ts): Next reads it as a literal, so it cannot be imported

    "app/layout.jsx": `export default function Layout({ children }) {
  return <html lang="en"><body>{children}</body></html>;
}
`,
    "app/form.jsx": `"use client";
import { useState } from "react";

export default function Form() {
  const [pending, setPending] = useState(false);
  return (
    <form onSubmit={(event) => { event.preventDefault(); setPending(true); }}>
      <label>Name <input name="name" autoComplete="name" required /></label>
      <label>Email <input name="email" type="email" autoComplete="email" required /></label>
      <label>Password <input name="password" type="password" autoComplete="new-password" required /></label>
      <button type="submit" disabled={pending}>{pending ? "Creating…" : "Create account"}</button>
    </form>
  );
}
`,
    "app/dynamic/page.jsx": `import { headers } from "next/headers";
import Form from "../form";

export default async function Page() {
  await headers(); // per request, as the nonce requires
  return <main><h1>Create your account</h1><Form /></main>;
}
`,
    "app/static/page.jsx": `import Form from "../form";

export default function Page() {
  return <main><h1>Create your account</h1><Form /></main>;
}
`,
    "app/api/noop/route.js": `export async function POST(request) {
  await request.json();
  return Response.json({ ok: true });
}
`,
    "app/api/argon2/route.js": `import os from "node:os";
import { hash, verify } from "@node-rs/argon2";
import { ARGON2ID } from "${argon2Module}";
import { createHashQueue } from "${passwordsModule}";

const bounded = createHashQueue({ maxInFlight: os.availableParallelism(), maxWaiting: 10_000 });
const stored = hash(${JSON.stringify(FLOOR_PASSWORD)}, ARGON2ID);

export async function POST(request) {
  const { password } = await request.json();
  const ok = await bounded(async () => verify(await stored, password));
  return Response.json({ ok }, { status: ok ? 200 : 401 });
}
`,
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}
