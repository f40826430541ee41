// The last backup as the Backup page and BACKUP INFO show it: the newest attempt known (from the current
// destination's history, or remembered in console.sqlite when that history is another one, lost or unwritable),
// the last one that committed an archive when the newest did not, and for each where its history is. An archive
// is shown only for an attempt that committed one, and said to be gone when it no longer is on disk.
import fs from "node:fs/promises";
import { isCommittedBackup, type HistoryEntry } from "./backup-history";

export interface LastBackupInfo {
  backupNumber: number; startingDate: string; endingDate: string; duration: number; status: number; statusText: string;
  partial: boolean; archiveSize: number | null; trigger: string; user: string | null;
  /** The archive this backup committed; null for a failed or stopped attempt (it made none). */
  archivePath: string | null;
  /** False when the archive it committed is no longer on disk (removed, or its destination moved or lost). */
  archiveExists: boolean;
  /** The backupHistory.json it was written to; null when unknown. */
  historyPath: string | null;
  /** False when that history is not the current destination's (the destination changed since). */
  inCurrentDestination: boolean;
}

/** An entry and the history it is in. */
export interface Located { entry: HistoryEntry; historyPath: string | null }

const newer = (a: Located | null, b: Located | null): Located | null =>
  !a ? b : !b ? a : Date.parse(b.entry.endingDate) > Date.parse(a.entry.endingDate) ? b : a;

async function describe({ entry: e, historyPath }: Located, currentHistoryPath: string | null): Promise<LastBackupInfo> {
  const archivePath = isCommittedBackup(e) && e.backupPath ? e.backupPath : null;
  const archiveExists = archivePath ? await fs.stat(archivePath).then((s) => s.isFile(), () => false) : false;
  return {
    backupNumber: e.backupNumber, startingDate: e.startingDate, endingDate: e.endingDate, duration: e.duration,
    status: e.status, statusText: e.statusText ?? "", partial: e.partial ?? false, archiveSize: e.archiveSize ?? null,
    trigger: e.trigger ?? "", user: e.user ?? null, archivePath, archiveExists,
    historyPath, inCurrentDestination: historyPath === null || historyPath === currentHistoryPath,
  };
}

/**
 * `history`: the current destination's backup entries (oldest first) and its path, or null when no destination
 * could be resolved; `remembered`: the last attempt and the last committed backup kept in console.sqlite.
 * On equal ending dates the history's entry wins (it is the same backup, with its history known for sure).
 */
export async function lastBackups(history: { entries: HistoryEntry[]; path: string } | null,
  remembered: { attempt: Located | null; committed: Located | null }): Promise<{ lastBackup: LastBackupInfo | null; lastCommitted: LastBackupInfo | null }> {
  const backups = (history?.entries ?? []).filter((e) => (e.operation ?? "backup") === "backup");
  const inHistory = (e: HistoryEntry | undefined): Located | null => (e && history ? { entry: e, historyPath: history.path } : null);
  const attempt = newer(inHistory(backups.at(-1)), remembered.attempt);
  const committed = newer(inHistory(backups.findLast(isCommittedBackup)), remembered.committed);
  const current = history?.path ?? null;
  return {
    lastBackup: attempt && await describe(attempt, current),
    // Only when it is not the last backup itself.
    lastCommitted: committed && attempt && !isCommittedBackup(attempt.entry) ? await describe(committed, current) : null,
  };
}
