// Opens the data side of a database at server start (docs/log-file.md): the bookkeeping in the data file, the log file
// (UseLog), the replay of operations logged but missing from the data file (a crash between the log's flush and
// the data file's commit), and the data API's store. Nothing here keeps the server from starting: a log that
// can't be used is reported, and refuses writes and backups with its reason until it is dealt with.
import fs from "node:fs";
import type { DatabaseLayout } from "../database/layout";
import type { BackupLocks } from "../locks/backup-locks";
import { integrateLog } from "../log/integration";
import { removeLeftRestoreWork } from "../restore/data-file-tools";
import { ensureBookkeeping } from "../data/bookkeeping";
import { CurrentLog } from "../log/current-log";
import { DataStore } from "../data/data-store";

export interface DataAccess {
  log: CurrentLog;
  store: DataStore;
  messages: string[];
}

export async function openDataAccess(layout: DatabaseLayout, locks: BackupLocks, useLog: boolean): Promise<DataAccess> {
  const log = new CurrentLog({ logFile: layout.logFile, segmentsDir: layout.logSegmentsDir });
  const messages: string[] = [];
  // A restore in place that a crash interrupted leaves its work folder (as big as the data file) beside the data
  // file; the live file itself is untouched until the swap, which undoes itself on failure.
  for (const name of await removeLeftRestoreWork(layout.dataDir)) messages.push(`Removed ${name}, left in ${layout.dataDir} by a restore that was interrupted.`);
  if (fs.existsSync(layout.dataFile)) {
    const bookkeeping = ensureBookkeeping(layout.dataFile);
    const { pending, notes } = await log.start(useLog, bookkeeping);
    messages.push(...notes);
    if (pending.length > 0) {
      try {
        const r = await integrateLog({ dataFile: layout.dataFile, records: pending, databaseId: bookkeeping.databaseId, afterOperation: bookkeeping.lastOperation });
        messages.push(`Replayed ${r.applied} operation(s) from the log file that the data file was missing (up to operation ${r.lastOperation}).`);
      } catch (err) {
        // The log then ends after the data file, so every new write is refused by the log (its numbers would not
        // follow): nothing is written that the log can't hold, and the message says what happened.
        messages.push(`Replaying the operations the data file is missing from the log failed: ${(err as Error).message}. ` +
          "Writes through the data API are refused until this is resolved (restore the data file, or move the log file aside).");
      }
    }
  } else {
    messages.push(`There is no data file at ${layout.dataFile}: the data API has nothing to serve until one exists.`);
  }
  return { log, store: new DataStore({ dataFile: layout.dataFile, locks, log }), messages };
}
