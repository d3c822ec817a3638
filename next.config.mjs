/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // forbidden() answers /admin for customers with a real 403 (app/forbidden.tsx).
  experimental: { authInterrupts: true },
  // `npm test` runs `tsc --noEmit` as its own step; the build need not type-check a second time.
  typescript: { ignoreBuildErrors: true },
  // proxy.ts sets the headers of pages and the API; static files get the ones that apply to them.
  async headers() {
    const headers = [
      { key: "X-Content-Type-Options", value: "nosniff" },
      { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
      { key: "Content-Security-Policy", value: "default-src 'none'; frame-ancestors 'none'" },
      ...(process.env.NODE_ENV === "production" ? [{ key: "Strict-Transport-Security", value: "max-age=63072000; includeSubDomains" }] : []),
    ];
    return [
      { source: "/_next/static/:path*", headers },
      { source: "/_next/image", headers },
      { source: "/favicon.ico", headers },
    ];
  },
  // Rendered with Node's own React on the server; kept out of the bundle.
  serverExternalPackages: ["@react-email/components", "@react-email/render", "nodemailer", "redis", "@upstash/redis"],
};

export default nextConfig;
