// vitest globalSetup of the "s3" project: a real S3 server for the off-site tests — Ceph's RADOS Gateway, started
// by scripts/s3/s3-up.sh on free ports with its state under os.tmpdir(), and stopped (its state deleted) after the
// run. If the server can't be started the tests are not skipped: each one fails with the reason.
//
// To keep one server running between runs (saves ~10 s a run), start it yourself and point the tests at it:
//   S3_STATE_DIR=/tmp/my-s3 S3_PORT=7490 bash scripts/s3/s3-up.sh
//   STRONGBOX_S3_ENDPOINT=http://127.0.0.1:7490 STRONGBOX_S3_ACCESS_KEY=… STRONGBOX_S3_SECRET_KEY=… \
//   STRONGBOX_S3_STATE_DIR=/tmp/my-s3 npx vitest run --project s3
// (keys from /tmp/my-s3/env; STRONGBOX_S3_STATE_DIR lets the gateway-restart test stop and start it; optional
// STRONGBOX_S3_REGION, STRONGBOX_S3_PATH_STYLE=0). Such a server is left running after the tests.
import type { TestProject } from "vitest/node";
import { startS3TestServer } from "./start-server";

export default async function setup(project: TestProject): Promise<(() => void) | void> {
  const { server, down } = await startS3TestServer();
  project.provide("s3", server);
  return down ?? undefined;
}
