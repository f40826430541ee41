// Restore in place (docs/operations.md#restore-in-place): the archive's data file — brought forward by the log, or
// to a chosen operation (a rollback) — replaces the live one while the server runs. Writes wait from the log
// integration to the swap, so every write acknowledged before it is in the log the integration reads, and every
// write after it goes to the new file. The replaced file with its -wal/-shm, the old log and its closed segments are
// kept in `Data/Replaced data file <time>/`. The restored file gets a new database id: a new log chain starts, and
// the old chain's log files can never be mixed into it.
import crypto from "node:crypto";
import path from "node:path";
import { readArchiveContents } from "../archive/contents";
import { listArchives } from "../archive/names";
import { setDatabaseId } from "../data/bookkeeping";
import type { DataStore } from "../data/data-store";
import { DATA_FILE_ENTRY } from "../database/layout";
import { DomainError } from "../errors";
import type { Trigger } from "../isomorphic/operation-kinds";
import { STATUS } from "../isomorphic/status";
import type { CurrentLog } from "../log/current-log";
import type { DatabaseContext } from "../operations/database-context";
import type { Task } from "../operations/task";
import { RESTORE_IN_PLACE_WORK, stamp } from "./data-file-tools";
import { swapDataFile, syncFile } from "./data-file-swap";
import { restoreArchive } from "./restore-archive";
import { integrateRestored, liveBookkeeping } from "./restored-log";

export interface RestoreInPlaceRequest {
  archivePath: string;
  /** Bring the restored data file forward with the log (all of it, or up to `upToOperation`). */
  integrateLog: boolean;
  /** Rollback: the data returns to the state just after this operation. */
  upToOperation?: number | null;
  trigger: Trigger;
}

/** What a restore in place needs of the running server: the data API's store (it lets go of the file) and the log. */
export interface LiveData {
  store: DataStore;
  log: CurrentLog;
}

export function restoreInPlaceTask(db: DatabaseContext, req: RestoreInPlaceRequest, live: LiveData): Task {
  return {
    kind: "restoreInPlace",
    trigger: req.trigger,
    record: { operation: "restore", archivePath: req.archivePath, structurePath: db.layout.projectDir },
    stoppedText: "The restore was stopped before the data file was replaced: nothing changed.",
    async run(ctx) {
      const { layout } = db;
      const { record, details, signal } = ctx;
      const settings = await ctx.settings();
      ctx.progress.phase("restore", 1);
      const contents = await readArchiveContents(req.archivePath);
      record.backupNumber = contents.manifest.backupNumber;
      if (!contents.manifest.entries.some((e) => e.path === DATA_FILE_ENTRY)) {
        throw new DomainError(STATUS.BACKUP_ERROR, `${req.archivePath} holds no data file: choose an archive made with the data file included.`);
      }
      // Not the database id: a restore in place gives the database a new one, and its older backups stay restorable.
      if (contents.manifest.databaseName !== settings.databaseName) {
        throw new DomainError(STATUS.BACKUP_ERROR, `${req.archivePath} is a backup of "${contents.manifest.databaseName}", not of this database ("${settings.databaseName}").`);
      }
      // Beside the data file (the same file system: the swap is a rename); removed on every path, and at start after a crash.
      const work = path.join(layout.dataDir, `${RESTORE_IN_PLACE_WORK}${ctx.operationId}`);
      ctx.removeAtEnd(work);
      await restoreArchive({ archivePath: req.archivePath, target: work, select: (e) => e.path === DATA_FILE_ENTRY, signal,
        onProgress: (p) => ctx.progress.update({ bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, filesDone: p.filesDone, filesTotal: p.filesTotal,
          currentFile: p.currentFile, percent: 1 + (50 * p.bytesDone) / Math.max(1, p.bytesTotal) }) });
      const restored = path.join(work, DATA_FILE_ENTRY);
      // From here writes wait: the log read next is then complete, and nothing changes the live file under the swap.
      ctx.atEnd(await db.locks.acquire("data", { signal }));
      if (req.integrateLog || req.upToOperation != null) {
        ctx.progress.phase("integrate", 55);
        const liveBk = await liveBookkeeping(layout.dataFile);
        details.push(await integrateRestored(ctx, settings, restored, [55, 90], { includeCurrentLog: true, upTo: req.upToOperation, mustReach: liveBk }));
      }
      signal.throwIfAborted();
      ctx.progress.phase("swap", 95); // not stoppable: the swap runs to its end
      const restoredBk = setDatabaseId(restored, crypto.randomUUID());
      await syncFile(restored);
      // Nothing may open the data file during the swap (DataStore.releaseFile … resumeFile).
      await live.store.releaseFile();
      let swapped;
      try {
        swapped = await swapDataFile({ layout, restored, asideName: `Replaced data file ${stamp(ctx.clock.now())}`, moveLog: true });
      } finally {
        live.store.resumeFile();
      }
      details.push(...swapped.warnings);
      try {
        await live.log.restart(settings.settings.advanced.useLog, restoredBk);
      } catch (err) {
        details.push(`The data file was replaced, but the new log file could not be started (${(err as Error).message}): writes are refused until the server restarts.`);
        throw err;
      }
      record.dataPath = layout.dataFile;
      details.push(`The data file ${layout.dataFile} was replaced by the one from ${req.archivePath}` +
        (req.upToOperation != null ? `, rolled back to just after operation ${req.upToOperation}.` : "."));
      details.push(`The replaced files (${swapped.moved.join(", ")}) are kept in ${swapped.folder}.`);
      details.push(`A new log chain starts after operation ${restoredBk.lastOperation} (the database has a new id): back up now to have a backup of the restored data.`);
    },
  };
}

/** The archive to roll back from: this database's newest backup whose snapshot ends at or before the operation. */
export async function rollbackArchive(db: DatabaseContext, operation: number): Promise<string> {
  const settings = await db.resolve();
  const live = await liveBookkeeping(db.layout.dataFile);
  if (!live) throw new DomainError(STATUS.BACKUP_ERROR, `There is no data file at ${db.layout.dataFile} to roll back.`);
  for (const a of (await listArchives(settings.destination, settings.databaseName)).reverse()) {
    const m = (await readArchiveContents(a.path).catch(() => null))?.manifest;
    if (!m || m.databaseId !== live.databaseId || !m.entries.some((e) => e.path === DATA_FILE_ENTRY)) continue;
    if ((m.log?.lastOperation ?? 0) <= operation) return a.path;
  }
  throw new DomainError(STATUS.BACKUP_ERROR, `No backup of this database was taken before operation ${operation}, so the data can't be rolled back to it.`);
}
