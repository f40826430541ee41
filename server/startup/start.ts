// The start of the operations side, in order (docs/operations.md#crash-recovery, #automatic-restore,
// docs/log-file.md#replay-at-start): a damaged data file is restored (before anything opens it); then the data side
// opens (the log, the replay of operations the data file lacks, the data API's store); then the data file's
// bookkeeping is made sure of and the operations a crash interrupted are recorded.
import fs from "node:fs/promises";
import { recoverInterrupted, type InterruptedOperation } from "../backup/crash-recovery";
import { ensureBookkeeping } from "../data/bookkeeping";
import { DataStore } from "../data/data-store";
import { CurrentLog } from "../log/current-log";
import type { DatabaseContext } from "../operations/database-context";
import type { OperationRunner } from "../operations/runner";
import { automaticRestoreIfDamaged } from "../restore/automatic-restore-task";
import type { StartupRestore } from "../restore/data-file-check";
import { loadSettings } from "../settings/backup-settings-file";
import { openDataAccess, type DataAccess } from "./open-data";

export interface StartedOperations {
  /** What the start found wrong with the data file (damaged and restored or not, missing), or null. */
  startupRestore: StartupRestore | null;
  data: DataAccess;
  /** Operations a crash interrupted, as recorded now: automatic backups among them count as failed attempts. */
  interrupted: InterruptedOperation[];
  /** Lines for the start-up output. */
  messages: string[];
}

export async function startOperations(db: DatabaseContext, runner: OperationRunner): Promise<StartedOperations> {
  const messages: string[] = [];
  const startupRestore = await automaticRestoreIfDamaged(db, runner).catch((err: Error): StartupRestore =>
    ({ outcome: "failed", damage: "unknown", message: `The check of the data file at start failed: ${err.message}`, notes: [] }));
  if (startupRestore) messages.push(startupRestore.message);
  const data = await openDataSide(db, startupRestore);
  messages.push(...data.messages);
  const recovered = await recoverAtStart(db, runner);
  messages.push(...recovered.messages);
  return { startupRestore, data, interrupted: recovered.interrupted, messages };
}

/** The log and the data API's store; operations logged but missing from the data file are replayed first. */
async function openDataSide(db: DatabaseContext, startupRestore: StartupRestore | null): Promise<DataAccess> {
  const { layout, locks } = db;
  const useLog = await loadSettings(db.databaseDir, db.defaultDestination).then((s) => s.advanced.useLog, () => true);
  return openDataAccess(layout, locks, useLog).catch((err: Error) => {
    // A damaged data file that was not restored: the server still starts, says so on the Backup page, and the
    // Restore page can replace the file; the data API reports the damage on each request.
    if (startupRestore?.outcome !== "off" && startupRestore?.outcome !== "failed") throw err;
    const log = new CurrentLog({ logFile: layout.logFile, segmentsDir: layout.logSegmentsDir });
    return { log, store: new DataStore({ dataFile: layout.dataFile, locks, log }), messages: [`The data file can't be opened: ${err.message}`] };
  });
}

/**
 * The data file's bookkeeping (made when missing), then crash recovery. A damaged data file (left so when
 * AutomaticRestore is off or found no valid backup) doesn't stop the start: that is reported.
 */
export async function recoverAtStart(db: DatabaseContext, runner: OperationRunner): Promise<{ messages: string[]; interrupted: InterruptedOperation[] }> {
  const messages: string[] = [];
  await fs.access(db.layout.dataFile).then(() => ensureBookkeeping(db.layout.dataFile), () => undefined)
    .catch((err: Error) => messages.push(`The data file's bookkeeping can't be read: ${err.message}`));
  const recovered = await recoverInterrupted(db, runner.recorder);
  return { messages: [...messages, ...recovered.messages], interrupted: recovered.interrupted };
}
