// The commit (docs/operations.md#partial-backup): the temporary archive renamed to its name, after which the
// backup is whole and Stop no longer applies. Then what follows a commit: a partial status for missing
// attachments, the "modified?" marks, the log backup, the folder's flush and retention. What fails from here is
// reported and never undoes the backup.
import fs from "node:fs/promises";
import { recordSnapshotMarks } from "../../data/data-change";
import { fsyncDir } from "../../fs/atomic-write";
import { STATUS } from "../../isomorphic/status";
import type { TaskContext } from "../../operations/task";
import type { BackupOptions, Started } from "../backup-run";
import type { Written } from "./archive";
import { saveLogBackup } from "./log-backup";
import { applyKeepLast } from "./retention";
import type { Snapshot } from "./snapshot";

export async function commit(ctx: TaskContext, opts: BackupOptions, started: Started, snapshot: Snapshot, written: Written, verified: boolean): Promise<void> {
  const { db, record, signal } = ctx;
  signal.throwIfAborted();
  ctx.progress.phase("commit", 99);
  await fs.rename(started.tempArchive, record.archivePath!);
  record.archive = { size: written.result.archiveSize, sha256: written.result.archiveSha256, verified };
  const missing = record.attachments.filter((a) => !a.found).map((a) => a.attachmentPath);
  if (missing.length) {
    record.status = STATUS.BACKUP_ERROR;
    record.partial = true;
    record.statusText = `Partial backup: attachment(s) not found: ${missing.join(", ")}`;
    record.errors.push({ code: STATUS.BACKUP_ERROR, text: record.statusText });
  }
  if (snapshot.marks) {
    try {
      recordSnapshotMarks(db.consoleDb, db.databaseDir, snapshot.marks);
    } catch (err) {
      record.notes.push(`Warning: the data file's marks could not be recorded (the next "modified?" check will say yes): ${(err as Error).message}`);
    }
  }
  if (snapshot.includesData && snapshot.bookkeeping) await saveLogBackup(ctx, opts, started.settings, snapshot.bookkeeping.databaseId);
  try {
    await fsyncDir(started.settings.destination);
  } catch (err) {
    record.notes.push(`Warning: the destination folder could not be flushed after the commit: ${(err as Error).message}`);
  }
  ctx.pruneHistoryTo(await applyKeepLast(ctx, started.settings));
}
