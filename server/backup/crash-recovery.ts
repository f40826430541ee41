// After a crash (spec §7): an operation the ledger still shows as running is recorded as failed in the history
// and the journal and its temporary files are removed; a committed archive the history doesn't know (a crash
// between the rename and the history write) is verified and recorded. Numbering goes on from what is on disk.
// Nothing here may keep the server from starting: a step that fails is reported and tried again next start.
import fs from "node:fs/promises";
import type { OperationRecord, Trigger } from "../operation";
import { formatBlock } from "../journal/backup-journal";
import { toHistoryEntry } from "../history/backup-history";
import { STATUS } from "../isomorphic/status";
import { isCommitted, type BackupEngine, type ResolvedContext } from "./backup-engine";
import { listArchives, listStrayTemps, listTempFiles } from "../archive/names";
import { recordFromArchive } from "../archive/record-from-archive";
import { listLogBackupTemps } from "../log/log-backup";
import type { LedgerRow, OperationLedger } from "../operations/ledger";

/** An operation a crash interrupted, as recorded now: the failure policy counts automatic ones as failed attempts. */
export interface InterruptedOperation { trigger: Trigger; scheduledDate: Date | null; status: number; statusText: string }

export async function recoverInterrupted(engine: BackupEngine, ledger: OperationLedger): Promise<{ messages: string[]; interrupted: InterruptedOperation[] }> {
  const messages: string[] = [];
  const interrupted: InterruptedOperation[] = [];
  let ctx: ResolvedContext;
  try {
    ctx = await engine.resolve();
  } catch (err) {
    return { messages: [`Recovery after a restart postponed: ${(err as Error).message}`], interrupted };
  }
  const verbose = ctx.settings.advanced.backupJournalVerboseMode;

  for (const row of ledger.interrupted()) {
    try {
      for (const t of row.tempPaths) await fs.rm(t, { force: true });
      const record = await interruptedRecord(row, ctx);
      // A row marked "recorded" already has its history entry: only its journal block may be missing.
      if (!row.recorded) await engine.history(ctx).append(toHistoryEntry(record), { oldestKeptNumber: null });
      await engine.journal.append(formatBlock(record, { verbose }));
      ledger.finish(row.id, record.status, new Date(), "recovered");
      messages.push(`Interrupted backup #${row.backupNumber ?? "?"} recorded with status ${record.status}.`);
      if (record.status !== 0 && !record.partial) interrupted.push({ trigger: row.trigger, scheduledDate: row.scheduledAt, status: record.status, statusText: record.statusText });
    } catch (err) {
      messages.push(`Interrupted backup #${row.backupNumber ?? "?"} could not be recorded yet (${(err as Error).message}); will try again at the next start.`);
    }
  }

  try {
    // Leftovers no ledger row names (the ledger itself may be new): temporary archives, snapshots, probes.
    for (const t of await listTempFiles(ctx.destination, ctx.databaseName)) await fs.rm(t.path, { force: true });
    for (const t of await listStrayTemps(ctx.destination)) await fs.rm(t, { force: true });
    for (const t of await listLogBackupTemps(ctx.destination, ctx.databaseName)) await fs.rm(t, { force: true });

    const history = engine.history(ctx);
    const known = new Set((await history.read()).entries.filter(isCommitted).map((e) => e.backupNumber));
    for (const a of await listArchives(ctx.destination, ctx.databaseName)) {
      if (known.has(a.number)) continue;
      const record = await recordFromArchive(a.path, { verify: true, note: "Recorded at start: this archive was missing from backupHistory.json." }).catch(() => null);
      if (!record || record.backupNumber !== a.number) continue; // not one of ours: leave it alone
      await history.append(toHistoryEntry(record), { oldestKeptNumber: null });
      await engine.journal.append(formatBlock(record, { verbose }));
      messages.push(`Archive ${a.path} was missing from the history: verified (status ${record.status}) and recorded.`);
    }
  } catch (err) {
    messages.push(`Checking the destination after a restart failed: ${(err as Error).message}`);
  }
  return { messages, interrupted };
}

async function interruptedRecord(row: LedgerRow, ctx: ResolvedContext): Promise<OperationRecord> {
  const committed = row.archivePath ? await fs.stat(row.archivePath).then(() => true, () => false) : false;
  if (committed && row.archivePath) {
    const note = "Recorded after a restart: the server stopped after the archive was committed.";
    const fromArchive = await recordFromArchive(row.archivePath, { verify: true, note }).catch(() => null);
    if (fromArchive) return fromArchive;
  }
  const text = committed
    ? `The backup was interrupted and its archive ${row.archivePath} can't be read.`
    : "The backup was interrupted: the server stopped during the backup. Its temporary files were removed.";
  return {
    operation: "backup", backupNumber: row.backupNumber ?? 0, trigger: row.trigger, archivePath: row.archivePath,
    logBackupPath: null, structurePath: ctx.structureKey, dataPath: "", content: { projectFiles: null, dataFile: null, attachmentFiles: null },
    attachments: [], files: [], archive: null, scheduledDate: row.scheduledAt, startingDate: row.startedAt, endingDate: new Date(),
    status: STATUS.BACKUP_ERROR, statusText: text, partial: false, errors: [{ code: STATUS.BACKUP_ERROR, text }], notes: [],
  };
}
