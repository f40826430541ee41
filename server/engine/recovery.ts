// After a crash (spec §7): an operation the ledger still shows as running is recorded as failed in the history
// and the journal and its temporary files are removed; a committed archive the history doesn't know (a crash
// between the rename and the history write) is verified and recorded. Numbering goes on from what is on disk.
import fs from "node:fs/promises";
import type { OperationRecord } from "../operation";
import { formatBlock } from "../journal/backup-journal";
import { toHistoryEntry } from "../history/backup-history";
import { STATUS } from "../status";
import { isCommitted, type BackupEngine } from "./backup-engine";
import { listArchives, listTempFiles } from "./archives";
import { recordFromArchive } from "./archive-record";
import type { OperationLedger } from "./operation-ledger";

export async function recoverInterrupted(engine: BackupEngine, ledger: OperationLedger): Promise<string[]> {
  const messages: string[] = [];
  const interrupted = ledger.interrupted();
  let ctx: Awaited<ReturnType<BackupEngine["resolve"]>> | null = null;
  try {
    ctx = await engine.resolve();
  } catch (err) {
    messages.push(`Recovery after a restart skipped: ${(err as Error).message}`);
  }
  const verbose = ctx?.settings.advanced.backupJournalVerboseMode ?? true;
  const now = new Date();

  for (const row of interrupted) {
    for (const t of row.tempPaths) await fs.rm(t, { force: true }).catch(() => undefined);
    if (!ctx) continue;
    const committed = row.archivePath ? await fs.stat(row.archivePath).then(() => true, () => false) : false;
    let record: OperationRecord;
    if (committed && row.archivePath) {
      record = await recordFromArchive(row.archivePath, { verify: true, note: "Recorded after a restart: the server stopped between the commit of the archive and its record." })
        .catch(() => failedRecord(row, ctx!, now, `The backup was interrupted and its archive ${row.archivePath} can't be read.`));
    } else {
      record = failedRecord(row, ctx, now, "The backup was interrupted: the server stopped during the backup. Its temporary files were removed.");
    }
    await engine.history(ctx).append(toHistoryEntry(record), { oldestKeptNumber: null });
    await engine.journal.append(formatBlock(record, { verbose }));
    ledger.finish(row.id, record.status, now, "recovered");
    messages.push(`Interrupted backup #${row.backupNumber ?? "?"} recorded with status ${record.status}.`);
  }
  if (!ctx) return messages;

  // Leftover temporary files of this database that no ledger row names (the ledger itself may be new).
  for (const t of await listTempFiles(ctx.destination, ctx.databaseName)) await fs.rm(t.path, { force: true });

  const history = engine.history(ctx);
  const known = new Set((await history.read()).entries.filter(isCommitted).map((e) => e.backupNumber));
  for (const a of await listArchives(ctx.destination, ctx.databaseName)) {
    if (known.has(a.number)) continue;
    try {
      const record = await recordFromArchive(a.path, { verify: true, note: "Recorded at start: this archive was missing from backupHistory.json." });
      if (record.backupNumber !== a.number) continue;
      await history.append(toHistoryEntry(record), { oldestKeptNumber: null });
      await engine.journal.append(formatBlock(record, { verbose }));
      messages.push(`Archive ${a.path} was missing from the history: verified (status ${record.status}) and recorded.`);
    } catch {
      // Not one of ours (no manifest): leave it alone.
    }
  }
  return messages;
}

function failedRecord(row: ReturnType<OperationLedger["interrupted"]>[number], ctx: NonNullable<Awaited<ReturnType<BackupEngine["resolve"]>>>, now: Date, text: string): OperationRecord {
  return {
    operation: "backup", backupNumber: row.backupNumber ?? 0, trigger: row.trigger, archivePath: row.archivePath,
    logBackupPath: null, structurePath: ctx.structureKey, dataPath: "", content: { projectFiles: null, dataFile: null, attachmentFiles: null },
    attachments: [], files: [], archive: null, scheduledDate: row.scheduledAt, startingDate: row.startedAt, endingDate: now,
    status: STATUS.BACKUP_ERROR, statusText: text, partial: false, errors: [{ code: STATUS.BACKUP_ERROR, text }], notes: [],
  };
}
