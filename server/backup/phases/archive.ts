// The archive (docs/archive.md): every entry written by the parallel ZIP writer into the temporary archive, then
// manifest.json, which lists only what was really written, as the last entry.
import fs from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { MANIFEST_FORMAT, MAX_MANIFEST_BYTES, type Manifest, type ManifestEntry } from "../../archive/manifest";
import type { Bookkeeping } from "../../data/bookkeeping";
import { DATA_FILE_ENTRY, MANIFEST_NAME } from "../../database/layout";
import { DomainError } from "../../errors";
import { formatLimit } from "../../fs/safe-open";
import { STATUS } from "../../isomorphic/status";
import type { TaskContext } from "../../operations/task";
import { ZipWriter, type ZipSource, type ZipWriteResult } from "../../zip/zip-writer";
import type { BackupOptions, BackupProgress, Started } from "../backup-run";
import { formatMB, sumSizes, type Snapshot } from "./snapshot";

const LEVEL = { None: 0, Fast: 1, Compact: 6 } as const;

export interface Written {
  result: ZipWriteResult;
  /** What the manifest lists: every entry really written. */
  manifestEntries: ManifestEntry[];
  bytesTotal: number;
}

export async function writeArchive(ctx: TaskContext, opts: BackupOptions, started: Started, snapshot: Snapshot, reached: BackupProgress): Promise<Written> {
  const { db, record, signal, clock } = ctx;
  const { settings, tempArchive, tempSnapshot } = started;
  const { entries } = snapshot;
  const bytesTotal = sumSizes(entries);
  // Every entry the writer counts: files, links, empty folders, and manifest.json at the end.
  ctx.progress.update({ phase: "archive", percent: 5, bytesTotal, filesTotal: entries.length + 1 }, true);
  const begun = performance.now();
  reached.writing = tempArchive;
  const writer = new ZipWriter(tempArchive, {
    level: LEVEL[settings.settings.advanced.compressionRate],
    signal,
    pace: opts.throttleBytesPerSecond ? makePacer(opts.throttleBytesPerSecond, signal) : undefined,
    onProgress: (p) => {
      const elapsed = (performance.now() - begun) / 1000;
      const speed = elapsed > 0.5 ? p.bytesDone / elapsed : null;
      ctx.progress.update({
        bytesDone: p.bytesDone, filesDone: p.filesDone, currentFile: p.currentName,
        percent: 5 + (bytesTotal ? (85 * p.bytesDone) / bytesTotal : 85),
        bytesPerSecond: speed, etaSeconds: speed ? Math.round((bytesTotal - p.bytesDone) / speed) : null,
      });
    },
  });
  for (const e of entries) {
    const source: ZipSource =
      e.kind === "symlink" ? { kind: "symlink", name: e.name, target: e.target!, mtime: e.mtime }
      : e.kind === "directory" ? { kind: "directory", name: e.name, mtime: e.mtime, mode: e.mode }
      : { kind: "file", name: e.name, path: e.name === DATA_FILE_ENTRY ? tempSnapshot : e.originalPath, size: e.size, mtime: e.mtime, mode: e.mode };
    await writer.add(source);
  }
  const byName = new Map((await writer.flushEntries()).map((w) => [w.name, w]));
  // Only what was really written goes into the manifest; a file that vanished meanwhile is noted instead.
  const manifestEntries: ManifestEntry[] = [];
  for (const e of entries) {
    const w = byName.get(e.name);
    if (!w) {
      record.notes.push(`Not saved (it could not be read during the backup): ${e.originalPath}`);
      continue;
    }
    manifestEntries.push({ path: e.name, originalPath: e.originalPath, kind: e.kind, size: w.size, mtime: e.mtime.toISOString(), sha256: w.sha256 });
  }
  record.files = manifestEntries.filter((e) => e.kind !== "directory").map((e) => e.originalPath);
  const manifest: Manifest = {
    format: MANIFEST_FORMAT, generator: "strongbox", databaseId: snapshot.bookkeeping?.databaseId ?? null,
    databaseName: settings.databaseName, backupNumber: started.number, trigger: record.trigger,
    scheduledDate: record.scheduledDate?.toISOString() ?? null, startingDate: record.startingDate.toISOString(),
    endingDate: clock.now().toISOString(), structurePath: db.layout.projectDir, dataPath: db.layout.dataFile,
    settings: settings.settings, log: snapshotOperations(snapshot.bookkeeping), attachments: record.attachments, entries: manifestEntries,
  };
  const data = Buffer.from(JSON.stringify(manifest, null, 2));
  // Readers refuse a larger manifest (it is what a zip bomb would claim): an archive no restore could read is a
  // failed backup, said plainly, not a surprise on the day of the restore.
  if (data.length > MAX_MANIFEST_BYTES) {
    throw new DomainError(STATUS.BACKUP_ERROR, `This backup holds ${manifestEntries.length} entries: their list (${MANIFEST_NAME}, ${formatMB(data.length)}) ` +
      `is over the ${formatLimit(MAX_MANIFEST_BYTES)} an archive's manifest may have, so the archive could not be read back. Save fewer files per backup (attachments).`);
  }
  await writer.add({ kind: "buffer", name: MANIFEST_NAME, data, mtime: clock.now() });
  const result = await writer.finish();
  await fs.rm(tempSnapshot, { force: true });
  return { result, manifestEntries, bytesTotal };
}

/** The log operations a snapshot contains (manifest `log`): all of them from the first, up to its last. */
function snapshotOperations(b: Bookkeeping | null): Manifest["log"] {
  if (!b) return { firstOperation: null, lastOperation: null };
  return { firstOperation: b.lastOperation > 0 ? 1 : null, lastOperation: b.lastOperation };
}

/** Test-only pacing: waits so that reading never runs faster than `bps`, and wakes at once on abort. */
function makePacer(bps: number, signal: AbortSignal): (bytes: number) => Promise<void> {
  const start = performance.now();
  let total = 0;
  return async (bytes) => {
    total += bytes;
    const due = start + (total / bps) * 1000 - performance.now();
    if (due <= 0) return;
    await new Promise<void>((resolve) => {
      const wake = () => { clearTimeout(t); resolve(); };
      const t = setTimeout(() => { signal.removeEventListener("abort", wake); resolve(); }, due);
      signal.addEventListener("abort", wake, { once: true });
    });
  };
}
