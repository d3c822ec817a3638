/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // forbidden() answers /admin for customers with a real 403 (app/forbidden.tsx).
  experimental: { authInterrupts: true },
  // `npm test` runs `tsc --noEmit` as its own step; the build need not type-check a second time.
  typescript: { ignoreBuildErrors: true },
  // Rendered with Node's own React on the server; kept out of the bundle.
  serverExternalPackages: ["@react-email/components", "@react-email/render", "nodemailer", "redis", "@upstash/redis"],
};

export default nextConfig;
