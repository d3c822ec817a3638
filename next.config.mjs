/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Rendered with Node's own React on the server; kept out of the bundle.
  serverExternalPackages: ["@react-email/components", "@react-email/render", "nodemailer", "redis", "@upstash/redis"],
};

export default nextConfig;
