// Off-site retention: keep the last X archives of a database in the bucket (its own setting, apart from the
// local one) with the log chain they need — the log backups numbered from the oldest kept archive on (and the one
// that archive's backup wrote), and the shipped segments after that archive's snapshot — and delete the rest for good (every version). An object under
// Object Lock is never deleted before its retain-until date: it is kept and listed, and deleted by a later run.
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { listArchives, type BucketLayout } from "./bucket-layout";
import { classifyS3Error, isOffsiteError } from "./s3-client";
import { bucketKeepsVersions, deleteObjectForGood, listObjects, type Bucket } from "./s3-objects";

export interface RetentionResult {
  /** Keys deleted. */
  deleted: string[];
  /** Objects that should go but are locked until the date shown. */
  locked: Array<{ key: string; retainUntil: string }>;
  /** The oldest archive kept, or null when there is none. */
  oldestKept: number | null;
  notes: string[];
}

export interface RetentionOptions {
  bucket: Bucket;
  layout: BucketLayout;
  databaseName: string;
  /** Archives to keep; null keeps everything. */
  keep: number | null;
  now?: Date;
  signal?: AbortSignal;
}

/** The retain-until date of an object's current version, or null. */
async function retainUntil(b: Bucket, key: string, signal?: AbortSignal): Promise<Date | null> {
  try {
    const h = await b.client.send(new HeadObjectCommand({ Bucket: b.dest.bucket, Key: key }), { abortSignal: signal });
    return h.ObjectLockRetainUntilDate ? new Date(h.ObjectLockRetainUntilDate) : null;
  } catch (err) {
    if (classifyS3Error(err).kind === "not-found") return null;
    throw err;
  }
}

export async function applyOffsiteRetention(opts: RetentionOptions): Promise<RetentionResult> {
  const { bucket: b, layout, databaseName: name, signal } = opts;
  const now = opts.now ?? new Date();
  const result: RetentionResult = { deleted: [], locked: [], oldestKept: null, notes: [] };
  const archives = await listArchives(b, layout, name, signal);
  const whole = archives.filter((a) => a.summary && a.object);
  if (opts.keep === null || whole.length <= opts.keep) {
    result.oldestKept = whole[0]?.number ?? null;
    return result;
  }
  const kept = whole.slice(whole.length - opts.keep);
  const oldestKept = kept[0]!.number;
  result.oldestKept = oldestKept;
  const versioned = await bucketKeepsVersions(b, signal);

  const remove = async (key: string, knownUntil?: string | null) => {
    const until = knownUntil !== undefined ? (knownUntil ? new Date(knownUntil) : null) : await retainUntil(b, key, signal);
    if (until && until > now) {
      result.locked.push({ key, retainUntil: until.toISOString() });
      return false;
    }
    try {
      await deleteObjectForGood(b, key, { versioned, signal });
      result.deleted.push(key);
      return true;
    } catch (err) {
      // Refused by the server (a lock we did not know of, a policy): kept, and said.
      if (isOffsiteError(err) && err.kind === "permission") {
        result.notes.push(`${key} was not deleted: ${err.message}`);
        return false;
      }
      throw err;
    }
  };

  // Archives before the oldest kept one (and leftovers without a summary there): the summary goes first, so the
  // bucket never offers an archive that is no longer whole.
  for (const a of archives) {
    if (a.number >= oldestKept) continue;
    const lockedUntil = a.summary?.lock?.retainUntil ?? null;
    if (a.summaryKey && !(await remove(a.summaryKey, a.summary ? lockedUntil : undefined))) continue;
    if (a.object) await remove(a.object.key, a.summary ? lockedUntil : undefined);
  }

  // Log backups: [K].4BL holds the operations after archive K's snapshot, so those from the oldest kept on stay; and
  // [K-1].4BL, which archive K's backup wrote, stays with it (a backup is its archive and its log backup, as on disk:
  // see applyRetention in engine/archives.ts).
  for (const o of await listObjects(b, layout.logBackupsPrefix(name), signal)) {
    const p = layout.parse(name, o.key);
    if (p?.kind === "log-backup" && p.number < oldestKept - 1) await remove(o.key);
  }

  // Shipped segments: those of a chain (database id) a kept archive starts from stay after its snapshot; those of
  // a chain only deleted archives knew go; those of a chain no archive knows stay (the live chain before its first
  // off-site archive: they may be all there is of it).
  const keptFrom = new Map<string, number>();
  for (const a of kept) {
    const id = a.summary!.databaseId;
    const from = a.summary!.snapshotLastOperation;
    if (id && from !== null) keptFrom.set(id, Math.min(keptFrom.get(id) ?? Infinity, from));
  }
  const goneIds = new Set(archives.filter((a) => a.number < oldestKept && a.summary?.databaseId).map((a) => a.summary!.databaseId!));
  for (const o of await listObjects(b, layout.segmentsPrefix(name), signal)) {
    const p = layout.parse(name, o.key);
    if (p?.kind !== "segment") continue;
    const from = keptFrom.get(p.databaseId);
    const doomed = from !== undefined ? p.lastOperation <= from : goneIds.has(p.databaseId);
    if (doomed) await remove(o.key);
  }
  return result;
}
