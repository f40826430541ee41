// What the off-site tests get from the S3 server test/s3/global-setup.ts started: the endpoint and credentials, a
// fresh bucket per test, and a way to stop and start the gateway (the cluster and its data stay).
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { inject } from "vitest";
import { makeS3Client, type S3ClientOptions, type S3Destination } from "../../server/offsite/s3-client";
import type { Bucket } from "../../server/offsite/s3-objects";
import type { S3TestServer } from "./start-server";

export type { S3TestServer };

declare module "vitest" {
  export interface ProvidedContext {
    s3: S3TestServer;
  }
}

/** The server, or a failure with the reason it could not be started. */
export function s3Server(): S3TestServer {
  const s = inject("s3");
  if (!s) throw new Error("No S3 test server: run these tests through vitest's \"s3\" project (vitest.config.ts), which starts one.");
  if (s.error) throw new Error(s.error);
  return s;
}

export function destinationFor(bucket: string, prefix = "strongbox"): S3Destination {
  const s = s3Server();
  return { endpoint: s.endpoint, region: s.region, bucket, prefix, forcePathStyle: s.forcePathStyle, accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey };
}

/** A new, empty bucket of its own (Object Lock on when asked), with a client for it. */
export async function freshBucket(opts: { objectLock?: boolean; prefix?: string; client?: S3ClientOptions } = {}): Promise<Bucket & { dest: S3Destination }> {
  const name = `sbx-${crypto.randomBytes(6).toString("hex")}`;
  const dest = destinationFor(name, opts.prefix);
  const client = makeS3Client(dest, opts.client);
  await client.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: opts.objectLock || undefined }));
  return { client, dest };
}

function gateway(script: "rgw-stop.sh" | "rgw-start.sh", env: Record<string, string> = {}): void {
  const s = s3Server();
  if (!s.stateDir) {
    throw new Error(`This test stops and restarts the S3 gateway, which needs the state dir of a server started by scripts/s3/s3-up.sh: ` +
      `set STRONGBOX_S3_STATE_DIR along with STRONGBOX_S3_ENDPOINT.`);
  }
  const r = spawnSync("bash", [path.join(s.scriptsDir, script), s.stateDir], { encoding: "utf8", env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${script} failed (exit ${r.status}):\n${r.stderr}`);
}

/** Stops the gateway (the cluster keeps every object and multipart upload). */
export const stopGateway = (opts: { kill?: boolean } = {}) => gateway("rgw-stop.sh", opts.kill ? { RGW_SIGNAL: "KILL" } : {});
/** Starts it again on the same port; returns once it answers. */
export const startGateway = () => gateway("rgw-start.sh");
