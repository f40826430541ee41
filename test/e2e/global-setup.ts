// Makes the end-to-end build once (in .next-e2e, with the test-only hooks compiled in; see next.config.js).
import { spawnSync } from "node:child_process";
import path from "node:path";
// @ts-expect-error plain .mjs helper without types
import { buildIsStale } from "../../scripts/build-state.mjs";

/** STRONGBOX_E2E_DIST lets two checkouts of work in progress build side by side; CI uses the default. */
export const E2E_DIST = process.env.STRONGBOX_E2E_DIST || ".next-e2e";

export default function globalSetup() {
  const root = path.resolve(import.meta.dirname, "../..");
  if (!buildIsStale(root, E2E_DIST)) return;
  const r = spawnSync(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, STRONGBOX_E2E_BUILD: "1", STRONGBOX_DIST_DIR: E2E_DIST, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (r.status !== 0) throw new Error("next build for the end-to-end tests failed");
}
