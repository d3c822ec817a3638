import { PHASE_DEVELOPMENT_SERVER } from "next/constants.js";
import { securityHeaders } from "./lib/web/security-headers.mjs";

/**
 * headers() is evaluated when the build runs (and baked into it), not per request: a production build gets
 * production headers (HSTS, upgrade-insecure-requests) whatever NODE_ENV the process that ran `next build`
 * had. Pages decide per request from lib/platform/config.ts, which reads NODE_ENV at run time (`next start` sets it).
 * @param {string} phase
 * @returns {import('next').NextConfig}
 */
export default function nextConfig(phase) {
  const isProduction = phase !== PHASE_DEVELOPMENT_SERVER;
  return {
    reactStrictMode: true,
    poweredByHeader: false,
    // proxy.ts sees a client-side navigation's _rsc query and RSC headers: with Next's normalising, /login?_rsc=… and
    // those headers reached it as a plain GET of /login, and got the prerendered document. (Next still strips a .rsc
    // suffix before the proxy runs: SECURITY.md §6.3 #31.)
    skipProxyUrlNormalize: true,
    // forbidden() answers /admin for customers with a real 403 (app/forbidden.tsx).
    experimental: {
      authInterrupts: true,
      // Bodies are counted as they stream in and refused at the cap (Next answers an action over it with 500):
      // the JSON API's 16 kB for server actions too, instead of Next's 1 MB.
      serverActions: { bodySizeLimit: "16kb" },
      // proxy.ts never reads a body, but Next copies up to this much of each page POST for it (10 MB by default).
      proxyClientMaxBodySize: "64kb",
    },
    // proxy.ts sets the headers of pages (they carry a nonce). The JSON API's are static, so they are set
    // here, without a proxy run per request; static files get the ones that apply to them.
    async headers() {
      const list = (headers) => Object.entries(headers).map(([key, value]) => ({ key, value }));
      const api = securityHeaders({ isProduction });
      // Answers about accounts and sessions: never kept by a browser or a shared cache.
      const apiOnly = { ...api, "Cache-Control": "no-store" };
      const files = {
        "X-Content-Type-Options": api["X-Content-Type-Options"],
        "Referrer-Policy": api["Referrer-Policy"],
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
        ...(isProduction ? { "Strict-Transport-Security": api["Strict-Transport-Security"] } : {}),
      };
      return [
        { source: "/api/:path*", headers: list(apiOnly) },
        { source: "/_next/static/:path*", headers: list(files) },
        { source: "/_next/image", headers: list(files) },
        { source: "/favicon.ico", headers: list(files) },
      ];
    },
    // Rendered with Node's own React on the server; kept out of the bundle. Only the email components in use
    // are installed: the @react-email/components bundle also loads a Tailwind compiler, Prism and marked
    // (about 24 MB of resident memory and 0.3 s of start-up).
    serverExternalPackages: [
      ...["body", "container", "head", "heading", "hr", "html", "preview", "render", "section", "text"].map((name) => `@react-email/${name}`),
      "nodemailer",
      "@redis/client",
      "@upstash/redis",
    ],
  };
}
