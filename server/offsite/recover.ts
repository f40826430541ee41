// Recovery from the bucket alone — for a new machine after the old one and its disk are gone: no console.sqlite,
// no history, only the bucket, its credentials and (when encrypted) the passphrase. It chooses the newest archive
// completed at or before the time asked for (or the newest), downloads it (SHA-256 checked, decrypted), restores it
// into the folder, then downloads the log that follows its snapshot — log backups and shipped segments of the same
// log chain — and integrates the operations made up to that time. The folder appears only when all of it is done
// (work happens in a sibling folder renamed at the end), with a report of what was used in Logs/.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { logDatabaseId } from "../log/integration";
import { writeFileAtomic } from "../fs/atomic-write";
import { collectOperations, integrateLog } from "../log/integration";
import { scanLog } from "../log/read-log";
import { restoreArchive } from "../restore/restore-archive";
import { checkRestoreTarget } from "../restore/restore-target";
import { DomainError, isDomainError } from "../errors";
import { BucketLayout, listArchives, listDatabases, readBucketManifest, unlockBucket, type ArchiveSummary } from "./bucket-layout";
import { downloadObject } from "./download";
import { OffsiteError, s3Url } from "./s3-client";
import { listObjects, type Bucket } from "./s3-objects";
import type { TransferProgress } from "./transfer-progress";

export interface RecoverOptions {
  bucket: Bucket;
  /** The prefix the copies were made under (the destination's prefix). */
  prefix: string;
  /** The folder to create: it must not exist, or be empty. */
  to: string;
  /** Which database, when the prefix holds several. */
  databaseName?: string;
  /** Bring the database back as it was at this time; absent: as late as the bucket allows. */
  time?: Date;
  /** For an encrypted bucket (STRONGBOX_OFFSITE_PASSPHRASE for the command). */
  passphrase?: string | null;
  /** Where downloads go while they are used (removed after); default a folder under the system's temporary folder. */
  workDir?: string;
  signal?: AbortSignal;
  /** Which step, and the transfer's progress while downloading. */
  onProgress?: (step: RecoverStep, detail: string, transfer?: TransferProgress) => void;
  now?: () => Date;
}

export type RecoverStep = "choose" | "download-archive" | "restore" | "download-log" | "integrate" | "done";

export interface RecoverReport {
  bucket: string;
  prefix: string;
  databaseName: string;
  databaseId: string | null;
  target: string;
  requestedTime: string | null;
  archive: { number: number; key: string; endingDate: string; snapshotLastOperation: number | null };
  /** The log objects read, by key. */
  logSources: string[];
  operationsIntegrated: number;
  /** The data file's last operation after recovery, and when it was made. */
  lastOperation: number | null;
  lastOperationTime: string | null;
  /** Things a person should know (a gap in the shipped log, an archive without bookkeeping…). */
  warnings: string[];
  reportFile: string;
}

const iso = (d: Date) => d.toISOString();
const stamp = (d: Date) => iso(d).replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");

export async function recoverFromBucket(opts: RecoverOptions): Promise<RecoverReport> {
  const { bucket: b, signal } = opts;
  const now = opts.now ?? (() => new Date());
  const step = (s: RecoverStep, detail: string, t?: TransferProgress) => opts.onProgress?.(s, detail, t);
  const layout = new BucketLayout(opts.prefix);
  const where = s3Url(b.dest.bucket, layout.root);
  const T = opts.time ?? null;
  if (T && Number.isNaN(T.getTime())) throw new OffsiteError("other", "The recovery time is not a valid date.");

  // 1. The folder: refused before anything is downloaded (a system folder, a file, a non-empty folder).
  const check = await checkRestoreTarget({ target: path.resolve(opts.to), overwrite: false });
  if (!check.ok) throw new OffsiteError("other", `Recovery refused: ${check.reason}`);
  const target = check.target;

  // 2. The bucket: its description, the key, the database, the archive.
  step("choose", `Reading ${where}`);
  const manifest = await readBucketManifest(b, layout, signal);
  if (!manifest) throw new OffsiteError("not-found", `${where} holds no Strongbox copies (there is no ${layout.manifestKey()}). Check the bucket and the prefix.`);
  const masterKey = await unlockBucket(manifest, opts.passphrase, where);
  const databases = await listDatabases(b, layout, signal);
  let databaseName = opts.databaseName;
  if (!databaseName) {
    if (databases.length !== 1) {
      throw new OffsiteError("other", databases.length === 0 ? `${where} holds no database's copies yet.`
        : `${where} holds copies of several databases (${databases.join(", ")}): say which one to recover.`);
    }
    databaseName = databases[0]!;
  } else if (!databases.includes(databaseName)) {
    throw new OffsiteError("not-found", `${where} holds no copies of the database ${databaseName}${databases.length ? ` (it has: ${databases.join(", ")})` : ""}.`);
  }
  const listed = await listArchives(b, layout, databaseName, signal);
  const usable = listed.filter((a) => a.summary && a.object && a.summary.dataFile).map((a) => a.summary!);
  const candidates = usable.filter((s) => !T || Date.parse(s.endingDate) <= T.getTime())
    .sort((x, y) => Date.parse(x.endingDate) - Date.parse(y.endingDate) || x.number - y.number);
  const chosen = candidates.at(-1);
  if (!chosen) {
    const oldest = usable.sort((x, y) => Date.parse(x.endingDate) - Date.parse(y.endingDate))[0];
    throw new OffsiteError("not-found", usable.length === 0 ? `${where}${databaseName}/ holds no complete archive with the data file to recover from.`
      : `No off-site archive of ${databaseName} was completed by ${iso(T!)}: the oldest one in the bucket ended at ${oldest!.endingDate}.`);
  }
  const warnings: string[] = listed.filter((a) => a.summaryProblem).map((a) => a.summaryProblem!);

  const work = opts.workDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), "strongbox-recover-")));
  await fs.mkdir(work, { recursive: true, mode: 0o700 });
  const building = `${target}.recovering-${process.pid}`;
  let committed = false;
  try {
    // 3. The archive.
    const archiveFile = path.join(work, path.basename(chosen.object.key).replace(/\.sbxenc$/, ""));
    step("download-archive", chosen.object.key);
    await downloadObject({ bucket: b, key: chosen.object.key, target: archiveFile, masterKey, expectedSha256: chosen.sha256, signal,
      onProgress: (p) => step("download-archive", chosen.object.key, p) });
    step("restore", `Restoring archive ${chosen.number} into ${target}`);
    await fs.rm(building, { recursive: true, force: true });
    await restoreArchive({ archivePath: archiveFile, target: building, signal });
    await fs.rm(archiveFile, { force: true });
    const dataFile = path.join(building, "Data", "data.sqlite");

    // 4. The log after the snapshot, up to the time asked for.
    const report: Omit<RecoverReport, "reportFile"> = {
      bucket: b.dest.bucket, prefix: layout.root, databaseName, databaseId: chosen.databaseId, target, requestedTime: T ? iso(T) : null,
      archive: { number: chosen.number, key: chosen.object.key, endingDate: chosen.endingDate, snapshotLastOperation: chosen.snapshotLastOperation },
      logSources: [], operationsIntegrated: 0, lastOperation: chosen.snapshotLastOperation, lastOperationTime: null, warnings,
    };
    if (chosen.databaseId === null || chosen.snapshotLastOperation === null) {
      warnings.push(`Archive ${chosen.number}'s data file has no Strongbox bookkeeping: the shipped log can't be integrated into it; the database is as the archive holds it.`);
    } else {
      const logDir = path.join(work, "log");
      await fs.mkdir(logDir, { recursive: true, mode: 0o700 });
      const sources = await downloadLog(b, layout, databaseName, chosen, logDir, masterKey, report.logSources, (k, p) => step("download-log", k, p), signal);
      step("integrate", `Integrating the log after operation ${chosen.snapshotLastOperation}`);
      const { records, gap } = await collectChain(sources, chosen.databaseId, chosen.snapshotLastOperation);
      const upTo = T ? records.findIndex((r) => Date.parse(r.time) > T.getTime()) : -1;
      const chosenRecords = upTo === -1 ? records : records.slice(0, upTo);
      if (gap && (upTo === -1)) {
        warnings.push(`Operations ${gap.from} to ${gap.to === null ? "the end" : gap.to} are not in the bucket: the database was recovered up to operation ` +
          `${chosenRecords.at(-1)?.op ?? chosen.snapshotLastOperation}, before them.`);
      }
      const r = await integrateLog({ dataFile, records: chosenRecords, databaseId: chosen.databaseId, afterOperation: chosen.snapshotLastOperation, signal });
      report.operationsIntegrated = r.applied;
      report.lastOperation = r.lastOperation;
      report.lastOperationTime = chosenRecords.at(-1)?.time ?? null;
      await fs.rm(logDir, { recursive: true, force: true });
    }

    // 5. The report, then the folder takes its name.
    const logsDir = path.join(building, "Logs");
    await fs.mkdir(logsDir, { recursive: true });
    const reportName = `Recovery from ${b.dest.bucket} ${stamp(now())}.json`;
    await writeFileAtomic(path.join(logsDir, reportName), JSON.stringify({ ...report, reportFile: path.join(target, "Logs", reportName) }, null, 2) + "\n");
    await fs.chmod(path.join(logsDir, reportName), 0o600);
    if (check.exists) await fs.rmdir(target); // empty (checked): the rename needs the name free
    await fs.rename(building, target);
    committed = true;
    step("done", target);
    return { ...report, reportFile: path.join(target, "Logs", reportName) };
  } catch (err) {
    if (isDomainError(err)) throw new OffsiteError("other", `Recovery failed: ${err.message}`, { cause: err });
    throw err;
  } finally {
    if (!committed) await fs.rm(building, { recursive: true, force: true }).catch(() => undefined);
    if (!opts.workDir) await fs.rm(work, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Downloads the log objects that may hold operations after the archive's snapshot: log backups numbered from the
 * archive on (only those of the same chain are kept), and the chain's shipped segments that end after it.
 */
async function downloadLog(b: Bucket, layout: BucketLayout, name: string, archive: ArchiveSummary, dir: string, masterKey: Buffer | null,
  keys: string[], progress: (key: string, p: TransferProgress) => void, signal?: AbortSignal): Promise<string[]> {
  const wanted: string[] = [];
  for (const o of await listObjects(b, layout.logBackupsPrefix(name), signal)) {
    const p = layout.parse(name, o.key);
    if (p?.kind === "log-backup" && p.number >= archive.number) wanted.push(o.key);
  }
  for (const o of await listObjects(b, layout.segmentsPrefix(name, archive.databaseId!), signal)) {
    const p = layout.parse(name, o.key);
    if (p?.kind === "segment" && p.lastOperation > archive.snapshotLastOperation!) wanted.push(o.key);
  }
  const files: string[] = [];
  for (const [i, key] of wanted.entries()) {
    const file = path.join(dir, `${String(i).padStart(5, "0")}-${path.basename(key).replace(/\.sbxenc$/, "")}`);
    await downloadObject({ bucket: b, key, target: file, masterKey, signal, onProgress: (p) => progress(key, p) });
    // A log backup of another chain (after a restore in place the numbers go on under a new id) is not ours.
    if ((await logDatabaseId(file)) !== archive.databaseId) {
      await fs.rm(file, { force: true });
      continue;
    }
    keys.push(key);
    files.push(file);
  }
  return files;
}

/**
 * The operations after `after`, in order, as far as they follow each other: when the bucket lacks some (a segment
 * that never arrived), the chain stops before the gap — a database that never existed is worse than an older one.
 */
async function collectChain(sources: string[], databaseId: string, after: number) {
  const ranges: Array<[number, number]> = [];
  for (const s of sources) {
    const scan = await scanLog(s, { expectDatabaseId: databaseId, allowTornTail: false });
    if (scan.count > 0) ranges.push([scan.header.firstOperation, scan.lastOperation]);
  }
  ranges.sort((x, y) => x[0] - y[0]);
  let end = after;
  let gap: { from: number; to: number | null } | null = null;
  for (const [first, last] of ranges) {
    if (last <= end) continue;
    if (first > end + 1) {
      gap = { from: end + 1, to: first - 1 };
      break;
    }
    end = last;
  }
  const records = end > after ? await collectOperations({ sources, databaseId, afterOperation: after, upToOperation: end }) : [];
  return { records, gap };
}
