// Makes the end-to-end build once (in .next-e2e, with the test-only hooks compiled in; see next.config.js), and
// starts the S3 test server once per run for the off-site specs (Ceph's RADOS Gateway by scripts/s3/s3-up.sh, as
// vitest's "s3" project does; STRONGBOX_S3_ENDPOINT and its credentials point at a running one instead). The
// server is handed to the specs in STRONGBOX_E2E_S3 (see s3.ts) and stopped at the end of the run.
import { spawnSync } from "node:child_process";
import path from "node:path";
// @ts-expect-error plain .mjs helper without types
import { buildIsStale } from "../../scripts/build-state.mjs";
import { startS3TestServer } from "../s3/start-server";

/** STRONGBOX_E2E_DIST lets two checkouts of work in progress build side by side; CI uses the default. */
export const E2E_DIST = process.env.STRONGBOX_E2E_DIST || ".next-e2e";

export default async function globalSetup(): Promise<(() => void) | void> {
  // The AWS SDK warns once per process that its releases after January 2027 need Node 22 (the README says so).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const root = path.resolve(import.meta.dirname, "../..");
  // The S3 server starts while the app builds (the two take about as long): the build is a child process.
  const s3 = startS3TestServer();
  if (buildIsStale(root, E2E_DIST)) {
    const r = spawnSync(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, STRONGBOX_E2E_BUILD: "1", STRONGBOX_DIST_DIR: E2E_DIST, NEXT_TELEMETRY_DISABLED: "1" },
    });
    if (r.status !== 0) {
      (await s3).down?.();
      throw new Error("next build for the end-to-end tests failed");
    }
  }
  const { server, down } = await s3;
  // Workers are started after this and inherit the environment.
  process.env.STRONGBOX_E2E_S3 = JSON.stringify(server);
  if (!server.error) console.log(`[s3] S3 test server at ${server.endpoint}`);
  return down ?? undefined;
}
