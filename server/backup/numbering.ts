// Backup numbers (docs/backup-history.md#numbering): one more than the highest number a committed archive used, in
// the history or on disk. A failed or stopped attempt doesn't use its number up, and an archive already under the
// candidate name is never overwritten: the next free number is taken, with a note.
import { listArchives } from "../archive/names";
import { isCommittedBackup, type BackupHistory, type HistoryEntry } from "../history/backup-history";

/** Highest number used up by a committed archive (a failed attempt leaves its number free). */
export function highestCommitted(entries: HistoryEntry[]): number {
  let max = 0;
  for (const e of entries) if (isCommittedBackup(e) && typeof e.backupNumber === "number") max = Math.max(max, e.backupNumber);
  return max;
}

/** The next backup's number; notes what the journal should say (a damaged history, a number taken on disk). */
export async function nextNumber(history: BackupHistory, destination: string, databaseName: string, notes: string[]): Promise<number> {
  const { entries, damaged } = await history.read();
  if (damaged) notes.push(`backupHistory.json was damaged (${damaged.reason}); kept as ${damaged.keptAs} and rebuilt from the archives.`);
  const fromHistory = highestCommitted(entries);
  const onDisk = (await listArchives(destination, databaseName)).at(-1)?.number ?? 0;
  const candidate = fromHistory + 1;
  if (onDisk >= candidate) {
    const taken = onDisk + 1;
    if (fromHistory > 0 || entries.length > 0 || onDisk > 0) {
      notes.push(`Archive number ${candidate} is already used by a file in the destination; this backup takes number ${taken}.`);
    }
    return taken;
  }
  return candidate;
}
