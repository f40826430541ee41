// The log backup (docs/log-file.md#log-backups), after the commit: every closed log segment — this snapshot's, and
// any a stopped or failed backup left — goes into `<Name>[K].4BL`, K the previous archive's number. The segments
// are removed only once the log backup is on disk, so a failure here (1408) loses nothing: they go into the next
// log backup.
import { removeSegments, writeLogBackup } from "../../log/log-backup";
import { STATUS } from "../../isomorphic/status";
import type { ResolvedContext } from "../../operations/database-context";
import type { TaskContext } from "../../operations/task";
import type { BackupOptions } from "../backup-run";

export async function saveLogBackup(ctx: TaskContext, opts: BackupOptions, settings: ResolvedContext, databaseId: string): Promise<void> {
  const { record } = ctx;
  ctx.progress.phase("logBackup", 99);
  try {
    const segments = await opts.log?.closedSegments() ?? [];
    if (segments.length === 0) return;
    const written = await writeLogBackup({ destination: settings.destination, databaseName: settings.databaseName,
      number: record.backupNumber - 1, databaseId, segments });
    record.logBackupPath = written.path;
    await removeSegments(segments);
  } catch (err) {
    const text = `The log backup could not be written (${(err as Error).message}); its operations are kept and go into the next log backup.`;
    record.errors.push({ code: STATUS.LOG_BACKUP_ERROR, text });
    // A partial backup keeps its 1409 (and its archive); the log backup's failure is one more error line.
    if (!record.partial) {
      record.status = STATUS.LOG_BACKUP_ERROR;
      record.statusText = text;
    }
  }
}
