// "Test connection" on the Settings page: lists the prefix, writes a probe object, reads it back, compares, and
// deletes it — and says exactly which step failed and why (host unknown, connection refused, no answer, wrong
// credentials, bucket missing, permission). It also reports whether the bucket has Object Lock.
import { GetObjectLockConfigurationCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import crypto from "node:crypto";
import { BucketLayout } from "./bucket-layout";
import { classifyS3Error, makeS3Client, offsiteError, s3Url, type S3Destination, type S3ErrorKind, type S3Timeouts } from "./s3-client";
import { bucketKeepsVersions, deleteObjectForGood, getObjectBuffer, putObject, type Bucket } from "./s3-objects";

export type ConnectionStep = "list" | "write" | "read" | "delete";

export interface ObjectLockInfo {
  enabled: boolean;
  /** The bucket's default retention, when it has one. */
  defaultRetention: { mode: string; days: number | null; years: number | null } | null;
}

export interface ConnectionTestResult {
  ok: boolean;
  /** The steps that passed, in order. */
  passed: ConnectionStep[];
  /** The step that failed, why (kind) and the sentence to show; null when all passed. */
  failure: { step: ConnectionStep; kind: S3ErrorKind; message: string } | null;
  /** null when it could not be read (the test failed before, or no permission to read it). */
  objectLock: ObjectLockInfo | null;
  notes: string[];
}

/** Short timeouts and no retries: the person waits for the answer. */
export const TEST_TIMEOUTS: S3Timeouts = { connectMs: 5_000, idleMs: 10_000, requestMs: 15_000 };

/** Whether the bucket has Object Lock (and its default retention); null when it can't be told. */
export async function objectLockOf(b: Bucket, signal?: AbortSignal): Promise<ObjectLockInfo | null> {
  try {
    const r = await b.client.send(new GetObjectLockConfigurationCommand({ Bucket: b.dest.bucket }), { abortSignal: signal });
    const enabled = r.ObjectLockConfiguration?.ObjectLockEnabled === "Enabled";
    const d = r.ObjectLockConfiguration?.Rule?.DefaultRetention;
    return { enabled, defaultRetention: d?.Mode ? { mode: d.Mode, days: d.Days ?? null, years: d.Years ?? null } : null };
  } catch (err) {
    const code = classifyS3Error(err).code;
    // Not enabled: AWS says ObjectLockConfigurationNotFoundError; some servers InvalidBucketState or 404.
    if (code === "ObjectLockConfigurationNotFoundError" || code === "InvalidBucketState" || classifyS3Error(err).kind === "not-found") {
      return { enabled: false, defaultRetention: null };
    }
    if (classifyS3Error(err).kind === "permission") return null;
    throw offsiteError(err, `Reading the Object Lock configuration of ${s3Url(b.dest.bucket)}`, b.dest, signal);
  }
}

export async function testConnection(dest: S3Destination, opts: { timeouts?: Partial<S3Timeouts>; signal?: AbortSignal } = {}): Promise<ConnectionTestResult> {
  const client = makeS3Client(dest, { timeouts: { ...TEST_TIMEOUTS, ...opts.timeouts }, maxAttempts: 1 });
  const b: Bucket = { client, dest };
  const layout = new BucketLayout(dest.prefix);
  const signal = opts.signal;
  const result: ConnectionTestResult = { ok: false, passed: [], failure: null, objectLock: null, notes: [] };
  const probeKey = `${layout.root}.strongbox-probe-${crypto.randomBytes(8).toString("hex")}`;
  const probe = crypto.randomBytes(64);
  const where = `the bucket ${dest.bucket} at ${dest.endpoint}`;
  let step: ConnectionStep = "list";
  let versionWritten = false;
  try {
    // A listing (not HeadBucket): a HEAD answer has no body, so "bucket missing" and "access denied" can't be told apart.
    try {
      await client.send(new ListObjectsV2Command({ Bucket: dest.bucket, Prefix: layout.root, MaxKeys: 1 }), { abortSignal: signal });
    } catch (err) {
      throw offsiteError(err, `Listing ${where}`, dest, signal);
    }
    result.passed.push(step);
    step = "write";
    await putObject(b, probeKey, probe, { contentType: "application/octet-stream", signal });
    versionWritten = true;
    result.passed.push(step);
    step = "read";
    const back = await getObjectBuffer(b, probeKey, { signal, maxBytes: 1024 });
    if (!back) throw offsiteError(Object.assign(new Error("NoSuchKey"), { name: "NoSuchKey" }), `Reading back ${s3Url(dest.bucket, probeKey)}`, dest);
    if (!back.equals(probe)) {
      throw offsiteError(new Error(`${back.length} bytes that differ from the ${probe.length} written`), `Reading back ${s3Url(dest.bucket, probeKey)}`, dest);
    }
    result.passed.push(step);
    step = "delete";
    result.objectLock = await objectLockOf(b, signal).catch(() => null);
    const versioned = await bucketKeepsVersions(b, signal).catch(() => false);
    try {
      await deleteObjectForGood(b, probeKey, { versioned, signal });
    } catch (err) {
      // A bucket whose default retention locks every new object: the probe can only be hidden, not removed.
      if (result.objectLock?.defaultRetention && classifyS3Error(err).kind === "permission") {
        await deleteObjectForGood(b, probeKey, { versioned: false, signal });
        result.notes.push(`The bucket's default Object Lock retention keeps the probe object ${probeKey} (64 bytes) until it expires; it is hidden by a delete marker.`);
      } else throw err;
    }
    versionWritten = false;
    result.passed.push(step);
    result.ok = true;
  } catch (err) {
    const e = offsiteError(err, `Testing ${where}`, dest, signal);
    result.failure = { step, kind: e.kind, message: e.message };
    if (versionWritten) {
      await deleteObjectForGood(b, probeKey, { versioned: false }).catch(() => undefined);
    }
  } finally {
    client.destroy();
  }
  if (result.ok && result.objectLock?.enabled) {
    const d = result.objectLock.defaultRetention;
    result.notes.push(`The bucket has Object Lock${d ? ` with a default retention of ${d.days ?? d.years! * 365} days (${d.mode})` : ""}.`);
  }
  return result;
}
