// Where things live, from the environment (docs/database-folder.md#environment). Resolved once per process; tests pass their own paths to
// the domain modules instead of going through here.
import path from "node:path";

export interface StrongboxPaths {
  home: string;
  databaseDir: string;
  defaultDestination: string;
  consoleDb: string;
  initialPasswordFile: string;
  secretFile: string;
}

export function pathsFromEnv(env: NodeJS.ProcessEnv = process.env): StrongboxPaths {
  const home = path.resolve(/*turbopackIgnore: true*/ env.STRONGBOX_HOME || "strongbox-home");
  const databaseDir = path.resolve(/*turbopackIgnore: true*/ env.STRONGBOX_DATABASE || path.join(home, "database"));
  return {
    home,
    databaseDir,
    defaultDestination: path.join(home, "backups"),
    consoleDb: path.join(home, "console.sqlite"),
    initialPasswordFile: path.join(home, "initial-admin-password"),
    secretFile: path.join(home, "nextauth-secret"),
  };
}

/**
 * Test-only slowdown of backups in bytes per second (docs/console.md: it cannot be turned on in production). The caller
 * passes whether this build was made for the end-to-end tests (next.config.js inlines STRONGBOX_E2E_BUILD at
 * build time, so the production build that `npm start` makes has no way to enable it).
 */
export function testThrottleFromEnv(e2eBuild: boolean, env: NodeJS.ProcessEnv = process.env): number | null {
  if (!e2eBuild) return null;
  const n = Number(env.STRONGBOX_TEST_THROTTLE_BPS);
  return Number.isFinite(n) && n > 0 ? n : null;
}

/**
 * Test-only: event streams end after this many milliseconds and the browser opens them again, so the end-to-end
 * tests can drop a console's stream in the middle of a backup. Like the slowdown, only in the e2e build.
 */
export function testStreamMaxMsFromEnv(e2eBuild: boolean, env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (!e2eBuild) return undefined;
  const n = Number(env.STRONGBOX_TEST_STREAM_MAX_MS);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}
