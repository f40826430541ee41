// What the backup holds, and the data file's snapshot (docs/operations.md#snapshot): the files are listed, room is
// made and checked, then — under the data write lock, with writes already running drained — the data file is
// copied consistently, its "modified?" marks taken and the log closed at exactly that point.
import fs from "node:fs/promises";
import { applyRetention } from "../../archive/names";
import { currentMarks, type DataFileMarks } from "../../data/data-change";
import type { Bookkeeping } from "../../data/bookkeeping";
import { DATA_FILE_ENTRY } from "../../database/layout";
import { DomainError } from "../../errors";
import { STATUS } from "../../isomorphic/status";
import type { TaskContext } from "../../operations/task";
import type { BackupOptions, Started } from "../backup-run";
import { collect, type CollectedEntry } from "../collect";
import { takePinnedSnapshot } from "../snapshot";

export interface Snapshot {
  /** Every entry the archive will hold, in order (the manifest comes last). */
  entries: CollectedEntry[];
  /** The data file's bookkeeping as the snapshot has it, or null when the data file is not saved (or has none). */
  bookkeeping: Bookkeeping | null;
  /** The data file's "modified?" marks at the snapshot (recorded once the backup commits). */
  marks: DataFileMarks | null;
  includesData: boolean;
}

export const sumSizes = (es: CollectedEntry[]) => es.reduce((n, e) => n + e.size, 0);
const files = (es: CollectedEntry[]) => es.filter((e) => e.kind !== "directory");

export async function takeSnapshot(ctx: TaskContext, opts: BackupOptions, started: Started): Promise<Snapshot> {
  const { db, record, signal } = ctx;
  const { settings } = started;
  const { includeStructureFile, includeDataFile } = settings.settings.general;
  // Changes to Project/ and Settings/ (settings saves) wait for the whole backup only when it saves them.
  if (!includeStructureFile) started.releaseStructure();
  const collected = await collect({ databaseDir: db.databaseDir, includeStructure: includeStructureFile, includeData: includeDataFile, attachments: settings.attachments });
  record.attachments = collected.attachmentResults;
  const dataBytes = includeDataFile ? await fs.stat(db.layout.dataFile).then((s) => s.size, () => 0) : 0;
  // Every file uncompressed, plus twice the data file: its snapshot is staged in the destination next to the archive.
  const estimate = sumSizes(collected.structure) + sumSizes(collected.dataSettings) + sumSizes(collected.attachments) + dataBytes * 2;
  signal.throwIfAborted();

  const { eraseOldBackupBefore, setNumber } = settings.settings.advanced;
  if (eraseOldBackupBefore && setNumber.enable) {
    // Room for this backup: keep one archive fewer than X now, so that X remain once it is committed.
    const { deleted } = await applyRetention(settings.destination, settings.databaseName, Math.max(0, setNumber.value - 1));
    for (const d of deleted) record.notes.push(`Deleted before the backup (EraseOldBackupBefore): ${d}`);
  }
  await checkFreeSpace(settings.destination, estimate);

  let bookkeeping: Bookkeeping | null = null;
  let marks = null as DataFileMarks | null;
  const entries: CollectedEntry[] = [...collected.structure];
  if (includeDataFile) {
    ctx.progress.phase("snapshot", 1);
    const { dataFile } = db.layout;
    await fs.access(dataFile).catch(() => {
      throw new DomainError(STATUS.BACKUP_ERROR, `The data file ${dataFile} is missing.`);
    });
    const useLog = settings.settings.advanced.useLog;
    ({ bookkeeping } = await takePinnedSnapshot(dataFile, started.tempSnapshot, {
      signal,
      // Writes arriving from now on wait; the snapshot waits for those already running (1405 after a timeout).
      lock: async () => {
        const release = await db.locks.acquire("data", { signal, drainTimeoutMs: opts.drainTimeoutMs });
        ctx.atEnd(release);
        return release;
      },
      pin: async (pinned) => {
        // Marks taken at the snapshot's point: a write during the copy makes the next "modified?" answer yes.
        marks = currentMarks(dataFile, pinned?.lastOperation ?? 0);
        // The log is closed exactly at the snapshot: its segment is saved as a log backup once this backup commits.
        if (opts.log && pinned) await opts.log.atSnapshot(useLog, pinned);
      },
      // Snapshot mode: writes go on while the copy is made (docs/operations.md#snapshot); Full mode keeps them
      // waiting for the whole backup, as 4D does.
      keepLock: settings.settings.advanced.dataLockMode !== "Snapshot",
      beforeCopy: opts.beforeSnapshotCopy,
    }));
    const st = await fs.stat(started.tempSnapshot);
    entries.push({ name: DATA_FILE_ENTRY, originalPath: dataFile, kind: "file", size: st.size, mtime: (await fs.stat(dataFile)).mtime, mode: st.mode });
    record.content.dataFile = { bytes: st.size };
    entries.push(...collected.dataSettings);
  }
  entries.push(...collected.attachments);
  record.content.projectFiles = includeStructureFile ? { count: files(collected.structure).length, bytes: sumSizes(collected.structure) } : null;
  record.content.attachmentFiles = collected.attachments.length ? { count: files(collected.attachments).length, bytes: sumSizes(collected.attachments) } : null;
  ctx.progress.preview();
  return { entries, bookkeeping, marks, includesData: includeDataFile };
}

async function checkFreeSpace(destination: string, estimate: number): Promise<void> {
  const st = await fs.statfs(destination);
  const free = st.bavail * st.bsize;
  if (free < estimate) {
    throw new DomainError(STATUS.BACKUP_ERROR,
      `Not enough free space in ${destination}: the backup needs up to ${formatMB(estimate)}, ${formatMB(free)} is free.`);
  }
}

export const formatMB = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
