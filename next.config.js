// Next.js configuration. Native and Node-only packages stay outside the bundle; STRONGBOX_E2E_BUILD is inlined
// at build time so that test-only hooks exist only in the build the end-to-end tests make (docs/console.md).

// On every response (pages, API routes, static files). The console is never framed (clickjacking), sends no
// referrer elsewhere, and its pages load scripts, styles and connections from its own origin only. Next's pages
// carry inline scripts (the hydration data), hence 'unsafe-inline' for scripts; `next dev` also needs eval.
const dev = process.env.NODE_ENV === "development";
const contentSecurityPolicy = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${dev ? " 'unsafe-eval'" : ""}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");
const securityHeaders = [
  { key: "Content-Security-Policy", value: contentSecurityPolicy },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "same-origin" },
  { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=()" },
];

/** @type {import('next').NextConfig} */
const config = {
  distDir: process.env.STRONGBOX_DIST_DIR || ".next",
  serverExternalPackages: ["better-sqlite3", "yauzl", "node-cron", "archiver", "fast-xml-parser"],
  env: { STRONGBOX_E2E_BUILD: process.env.STRONGBOX_E2E_BUILD === "1" ? "1" : "0" },
  poweredByHeader: false,
  devIndicators: false,
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
};
export default config;
