// The S3 server the e2e run started (global-setup.ts), for the off-site specs: its endpoint and credentials, and a
// new bucket per spec. A server that could not be started fails the spec with the reason (never a skip).
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import crypto from "node:crypto";
import { makeS3Client, type S3Destination } from "../../server/offsite/s3-client";
import type { S3TestServer } from "../s3/start-server";

export function e2eS3(): S3TestServer {
  const raw = process.env.STRONGBOX_E2E_S3;
  if (!raw) throw new Error("No S3 test server: run the end-to-end tests through playwright.config.ts, whose global setup starts one.");
  const s = JSON.parse(raw) as S3TestServer;
  if (s.error) throw new Error(s.error);
  return s;
}

/** A new, empty bucket, and the destination that names it. */
export async function e2eBucket(prefix = "strongbox"): Promise<S3Destination> {
  const s = e2eS3();
  const dest: S3Destination = { endpoint: s.endpoint, region: s.region, bucket: `sbx-e2e-${crypto.randomBytes(5).toString("hex")}`, prefix,
    forcePathStyle: s.forcePathStyle, accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey };
  const client = makeS3Client(dest);
  try {
    await client.send(new CreateBucketCommand({ Bucket: dest.bucket }));
  } finally {
    client.destroy();
  }
  return dest;
}
