// Everything a task needs to write to the off-site destination, opened once from console.sqlite: the client, the
// bucket's layout, the encryption key (checked against the bucket's strongbox.json), whether the bucket has
// Object Lock, and the settings. What uploads, log shipping and retention are handed.
import type { ConsoleDb } from "../console/console-db";
import { BucketLayout, prepareBucket } from "./bucket-layout";
import { loadDestination, loadEncryptionKey, loadOffsiteSettings, type OffsiteSettings } from "./offsite-settings";
import { makeS3Client, type S3ClientOptions, type S3Destination } from "./s3-client";
import type { Bucket, ObjectLock } from "./s3-objects";
import type { SecretBox } from "./secret-box";
import { objectLockOf, type ObjectLockInfo } from "./test-connection";

export interface OffsiteTarget {
  bucket: Bucket;
  dest: S3Destination;
  layout: BucketLayout;
  /** console.sqlite (multipart upload state). */
  db: ConsoleDb;
  /** Encrypt uploads with this key; null: plain. */
  masterKey: Buffer | null;
  settings: OffsiteSettings;
  /** null when it could not be read (no permission): no lock is asked for then. */
  objectLock: ObjectLockInfo | null;
}

/**
 * Opens the configured destination, or returns null when none is set. The bucket's strongbox.json is written on
 * first use; a stored encryption key that no longer matches the bucket's key check is refused (CipherError).
 */
export async function openOffsiteTarget(db: ConsoleDb, box: SecretBox, opts: { client?: S3ClientOptions; signal?: AbortSignal } = {}): Promise<OffsiteTarget | null> {
  const dest = loadDestination(db, box);
  if (!dest) return null;
  const bucket: Bucket = { client: makeS3Client(dest, opts.client), dest };
  const layout = new BucketLayout(dest.prefix);
  const settings = loadOffsiteSettings(db);
  const stored = loadEncryptionKey(db, box);
  const { masterKey } = await prepareBucket(bucket, layout, stored ? { masterKey: stored } : null, { signal: opts.signal });
  const objectLock = await objectLockOf(bucket, opts.signal);
  return { bucket, dest, layout, db, masterKey, settings, objectLock };
}

/**
 * The Object Lock to ask for on an object uploaded at `now`: retain-until = now + lockDays, in the chosen mode —
 * when the settings ask for one and the bucket has Object Lock (a bucket without it refuses any retention).
 */
export function lockFor(t: Pick<OffsiteTarget, "settings" | "objectLock">, now: Date): ObjectLock | null {
  if (t.settings.lockDays <= 0 || !t.objectLock?.enabled) return null;
  return { mode: t.settings.lockMode, retainUntil: new Date(now.getTime() + t.settings.lockDays * 86_400_000) };
}

/** Why the lock setting has no effect, or null: for the journal and the Settings page. */
export function lockProblem(t: Pick<OffsiteTarget, "settings" | "objectLock" | "dest">): string | null {
  if (t.settings.lockDays <= 0) return null;
  if (t.objectLock === null) return `Object Lock of ${t.dest.bucket} can't be read with these credentials: copies are uploaded without a retain-until date.`;
  if (!t.objectLock.enabled) return `The bucket ${t.dest.bucket} was created without Object Lock: copies can't be locked (Object Lock can only be chosen when a bucket is created).`;
  return null;
}
