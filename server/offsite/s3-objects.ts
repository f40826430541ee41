// Small object operations every off-site module uses: put a buffer (with its Content-MD5, the one checksum
// radosgw verifies, and its SHA-256 for the servers that verify that), read one whole, look one up, list a prefix,
// and delete an object for good (every version, on a versioned bucket). Failures become OffsiteErrors.
import {
  DeleteObjectCommand, GetBucketVersioningCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand,
  PutObjectCommand, type HeadObjectCommandOutput, type ObjectLockMode, type S3Client,
} from "@aws-sdk/client-s3";
import crypto from "node:crypto";
import { classifyS3Error, OffsiteError, offsiteError, s3Url, type S3Destination } from "./s3-client";

/** A client with the destination it talks to (bucket, endpoint for messages). */
export interface Bucket {
  client: S3Client;
  dest: Pick<S3Destination, "endpoint" | "bucket">;
}

export interface ObjectLock {
  mode: ObjectLockMode;
  retainUntil: Date;
}

export const md5Base64 = (b: Buffer) => crypto.createHash("md5").update(b).digest("base64");
export const sha256Base64 = (b: Buffer) => crypto.createHash("sha256").update(b).digest("base64");
export const sha256Hex = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");

/** One PutObject of a buffer (for objects small enough to hold in memory: JSON, log segments, small files). */
export async function putObject(b: Bucket, key: string, body: Buffer, opts: {
  metadata?: Record<string, string>; contentType?: string; lock?: ObjectLock | null; signal?: AbortSignal;
} = {}): Promise<{ versionId: string | null }> {
  try {
    const r = await b.client.send(new PutObjectCommand({
      Bucket: b.dest.bucket, Key: key, Body: body, ContentLength: body.length, ContentMD5: md5Base64(body), ChecksumSHA256: sha256Base64(body),
      ContentType: opts.contentType ?? "application/octet-stream", Metadata: opts.metadata,
      ObjectLockMode: opts.lock?.mode, ObjectLockRetainUntilDate: opts.lock?.retainUntil,
    }), { abortSignal: opts.signal });
    return { versionId: r.VersionId ?? null };
  } catch (err) {
    throw offsiteError(err, `Writing ${s3Url(b.dest.bucket, key)}`, b.dest, opts.signal);
  }
}

/** Reads a whole (small) object; null when it does not exist. */
export async function getObjectBuffer(b: Bucket, key: string, opts: { signal?: AbortSignal; maxBytes?: number } = {}): Promise<Buffer | null> {
  try {
    const r = await b.client.send(new GetObjectCommand({ Bucket: b.dest.bucket, Key: key }), { abortSignal: opts.signal });
    const max = opts.maxBytes ?? 16 << 20;
    if ((r.ContentLength ?? 0) > max) {
      (r.Body as NodeJS.ReadableStream & { destroy?: () => void })?.destroy?.();
      throw new Error(`${s3Url(b.dest.bucket, key)} holds ${r.ContentLength} bytes, more than the ${max} expected`);
    }
    return Buffer.from(await r.Body!.transformToByteArray());
  } catch (err) {
    if (classifyS3Error(err).kind === "not-found") return null;
    throw offsiteError(err, `Reading ${s3Url(b.dest.bucket, key)}`, b.dest, opts.signal);
  }
}

/** HeadObject, or null when the object does not exist. */
export async function headObject(b: Bucket, key: string, signal?: AbortSignal): Promise<HeadObjectCommandOutput | null> {
  try {
    return await b.client.send(new HeadObjectCommand({ Bucket: b.dest.bucket, Key: key }), { abortSignal: signal });
  } catch (err) {
    if (classifyS3Error(err).kind === "not-found") return null;
    throw offsiteError(err, `Looking up ${s3Url(b.dest.bucket, key)}`, b.dest, signal);
  }
}

export interface ListedObject { key: string; size: number; lastModified: Date | null }

/** Every object under `prefix` (all pages), in key order. */
export async function listObjects(b: Bucket, prefix: string, signal?: AbortSignal): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let token: string | undefined;
  try {
    do {
      const r = await b.client.send(new ListObjectsV2Command({ Bucket: b.dest.bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal });
      for (const o of r.Contents ?? []) if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? null });
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  } catch (err) {
    throw offsiteError(err, `Listing ${s3Url(b.dest.bucket, prefix)}`, b.dest, signal);
  }
  return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

/** The "folders" directly under `prefix` (ListObjectsV2 with a delimiter), without the prefix and the slash. */
export async function listFolders(b: Bucket, prefix: string, signal?: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  try {
    do {
      const r = await b.client.send(new ListObjectsV2Command({ Bucket: b.dest.bucket, Prefix: prefix, Delimiter: "/", ContinuationToken: token }), { abortSignal: signal });
      for (const p of r.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix.slice(prefix.length).replace(/\/$/, ""));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  } catch (err) {
    throw offsiteError(err, `Listing ${s3Url(b.dest.bucket, prefix)}`, b.dest, signal);
  }
  return out.sort();
}

/** True when the bucket keeps versions (Enabled or Suspended): a plain delete then only hides the object. */
export async function bucketKeepsVersions(b: Bucket, signal?: AbortSignal): Promise<boolean> {
  try {
    const r = await b.client.send(new GetBucketVersioningCommand({ Bucket: b.dest.bucket }), { abortSignal: signal });
    return r.Status === "Enabled" || r.Status === "Suspended";
  } catch (err) {
    throw offsiteError(err, `Reading the versioning state of ${s3Url(b.dest.bucket)}`, b.dest, signal);
  }
}

/**
 * Deletes an object for good: on a versioned bucket (every bucket with Object Lock is one) every version and delete
 * marker of exactly that key, since a plain delete would only add a marker and keep the bytes (and their cost).
 * A version still under Object Lock is refused by the server: that failure is thrown (kind "permission").
 */
export async function deleteObjectForGood(b: Bucket, key: string, opts: { versioned: boolean; signal?: AbortSignal }): Promise<void> {
  const what = `Deleting ${s3Url(b.dest.bucket, key)}`;
  try {
    if (!opts.versioned) {
      await b.client.send(new DeleteObjectCommand({ Bucket: b.dest.bucket, Key: key }), { abortSignal: opts.signal });
      return;
    }
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    const versions: string[] = [];
    do {
      const r = await b.client.send(new ListObjectVersionsCommand({ Bucket: b.dest.bucket, Prefix: key, KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
        { abortSignal: opts.signal });
      for (const v of [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])]) if (v.Key === key && v.VersionId) versions.push(v.VersionId);
      keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
      versionMarker = r.IsTruncated ? r.NextVersionIdMarker : undefined;
    } while (keyMarker);
    for (const versionId of versions) {
      try {
        await b.client.send(new DeleteObjectCommand({ Bucket: b.dest.bucket, Key: key, VersionId: versionId }), { abortSignal: opts.signal });
      } catch (err) {
        // On a versioned bucket a refusal is most often Object Lock doing its job: say so rather than blame the credentials.
        if (classifyS3Error(err, opts.signal).kind === "permission") {
          throw new OffsiteError("permission", `${what} was refused by the server: the version ${versionId} is protected (Object Lock retention ` +
            "or legal hold not yet expired), or these credentials may not delete versions. It stays in the bucket.", { cause: err, code: classifyS3Error(err).code });
        }
        throw err;
      }
    }
  } catch (err) {
    throw offsiteError(err, what, b.dest, opts.signal);
  }
}
