// The off-site copy of one committed backup: its archive (with the summary that lets recovery choose it without
// downloading it) and the log backups written with it. Each file is an uploadFile — not sent again when already
// there, resumed when interrupted — so running the copy again after any failure finishes it. The local backup is
// never touched.
import path from "node:path";
import type { Manifest } from "../archive/manifest";
import { loadManifest, openArchiveFile } from "../archive/manifest";
import { archiveSummarySchema, writeArchiveSummary, type ArchiveSummary } from "./bucket-layout";
import { uploadFile, type UploadResult } from "./multipart-upload";
import { lockFor, lockProblem, type OffsiteTarget } from "./offsite-target";
import { OffsiteError, s3Url } from "./s3-client";
import type { TransferProgress } from "./transfer-progress";

export interface OffsiteCopyRequest {
  archivePath: string;
  /** The log backups (.4BL) this backup wrote, if any. */
  logBackups?: string[];
  signal?: AbortSignal;
  /** `file` is the local file being sent. */
  onProgress?: (file: string, p: TransferProgress) => void;
  now?: () => Date;
}

export interface OffsiteCopyResult {
  archive: UploadResult;
  summary: ArchiveSummary;
  logBackups: UploadResult[];
  /** Lines for the journal block (`Uploading archive :`, `Off-site copy :`…). */
  lines: string[];
}

const LOG_BACKUP_RE = /\[(\d{4,})\]\.4BL$/;
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

function outcomeText(r: UploadResult): string {
  if (r.outcome === "already-there") return "already there (same SHA-256), not sent again";
  const sent = `${mb(r.bytesSent)} sent${r.outcome === "resumed" ? " (resumed)" : ""}`;
  return r.lock ? `${sent}, locked until ${r.lock.retainUntil}` : sent;
}

export async function copyBackupOffsite(t: OffsiteTarget, req: OffsiteCopyRequest): Promise<OffsiteCopyResult> {
  const now = req.now ?? (() => new Date());
  const archive = await openArchiveFile(req.archivePath).catch((err: Error) => {
    throw new OffsiteError("other", `The archive ${req.archivePath} can't be read for its off-site copy (${err.message}).`, { cause: err });
  });
  let manifest: Manifest;
  try {
    manifest = await loadManifest(archive, { signal: req.signal });
  } finally {
    await archive.close().catch(() => undefined);
  }
  const name = manifest.databaseName;
  const encrypted = t.masterKey !== null;
  const lines: string[] = [];
  const problem = lockProblem(t);
  if (problem) lines.push(`Warning : ${problem}`);

  const archiveKey = t.layout.archiveKey(name, manifest.backupNumber, encrypted);
  lines.push(`Uploading archive : ${req.archivePath} to ${s3Url(t.dest.bucket, archiveKey)}${encrypted ? " (encrypted)" : ""}`);
  const up = await uploadFile({
    bucket: t.bucket, db: t.db, key: archiveKey, file: req.archivePath, masterKey: t.masterKey, lock: lockFor(t, now()), contentType: "application/zip",
    signal: req.signal, onProgress: (p) => req.onProgress?.(req.archivePath, p),
  });
  lines.push(`Off-site copy : ${outcomeText(up)}`);

  const summary: ArchiveSummary = archiveSummarySchema.parse({
    format: 1, databaseName: name, databaseId: manifest.databaseId, number: manifest.backupNumber,
    startingDate: manifest.startingDate, endingDate: manifest.endingDate,
    dataFile: manifest.entries.some((e) => e.path === "Data/data.sqlite"), snapshotLastOperation: manifest.log.lastOperation,
    sha256: up.sha256, size: up.size, object: { key: archiveKey, size: up.objectSize, encrypted: up.encrypted },
    lock: up.lock ? { mode: up.lock.mode, retainUntil: up.lock.retainUntil } : null, uploadedAt: now().toISOString(),
  });
  // The summary is written last: a summary in the bucket always describes an archive that is whole there.
  await writeArchiveSummary(t.bucket, t.layout, summary, up.lock ? { mode: up.lock.mode as "COMPLIANCE" | "GOVERNANCE", retainUntil: new Date(up.lock.retainUntil) } : null, req.signal);

  const logBackups: UploadResult[] = [];
  for (const file of req.logBackups ?? []) {
    const m = LOG_BACKUP_RE.exec(path.basename(file));
    if (!m) throw new OffsiteError("other", `${file} is not named as a log backup (<Name>[NNNN].4BL); it was not sent.`);
    const key = t.layout.logBackupKey(name, Number(m[1]), encrypted);
    lines.push(`Uploading log backup : ${file} to ${s3Url(t.dest.bucket, key)}`);
    const r = await uploadFile({
      bucket: t.bucket, db: t.db, key, file, masterKey: t.masterKey, lock: lockFor(t, now()), signal: req.signal,
      onProgress: (p) => req.onProgress?.(file, p),
    });
    lines.push(`Off-site copy : ${outcomeText(r)}`);
    logBackups.push(r);
  }
  return { archive: up, summary, logBackups, lines };
}
