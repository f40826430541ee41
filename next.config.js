// Next.js configuration. Native and Node-only packages stay outside the bundle; STRONGBOX_E2E_BUILD is inlined
// at build time so that test-only hooks exist only in the build the end-to-end tests make (spec §10).
/** @type {import('next').NextConfig} */
const config = {
  distDir: process.env.STRONGBOX_DIST_DIR || ".next",
  serverExternalPackages: ["better-sqlite3", "yauzl", "node-cron", "archiver", "fast-xml-parser"],
  env: { STRONGBOX_E2E_BUILD: process.env.STRONGBOX_E2E_BUILD === "1" ? "1" : "0" },
  poweredByHeader: false,
  devIndicators: false,
};
export default config;
