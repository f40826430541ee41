import { defineConfig } from "vitest/config";
import path from "node:path";

// Two projects: the unit and integration tests, and the off-site tests (*.s3.test.ts) that need a real S3 server.
// The second one's globalSetup starts Ceph's RADOS Gateway only when one of its files is run; its files run one at
// a time, after the first project's (one of them stops and restarts the gateway, which the others share).
export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // A test waits for what it needs: on a busy machine a backup can take seconds to reach a phase, far more than
    // expect.poll's own default of 1 s.
    expect: { poll: { timeout: 30_000 } },
    // The AWS SDK warns once per process that its releases after January 2027 need Node 22 (the README says so);
    // in the tests it would only bury their output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["server/**/*.test.ts", "test/unit/**/*.test.ts"], exclude: ["**/*.s3.test.ts", "**/node_modules/**"] },
      },
      {
        extends: true,
        test: {
          name: "s3",
          include: ["server/**/*.s3.test.ts"],
          globalSetup: ["test/s3/global-setup.ts"],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 180_000,
        },
      },
    ],
  },
});
