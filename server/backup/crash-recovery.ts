// After a crash (docs/operations.md#crash-recovery): an operation the ledger still shows as running is recorded as
// failed in the history and the journal and its temporary files are removed; a committed archive the history
// doesn't know (a crash between the rename and the history write) is verified and recorded. Numbering goes on from
// what is on disk. Nothing here may keep the server from starting: a step that fails is reported and tried again
// at the next start. A plain function over the recorder rather than a task: it writes several records (one per
// interrupted operation or unrecorded archive), at start, before anything could want the slot.
import fs from "node:fs/promises";
import { listArchives, listStrayTemps, listTempFiles } from "../archive/names";
import { recordFromArchive } from "../archive/record-from-archive";
import { isCommittedBackup } from "../history/backup-history";
import type { Trigger } from "../isomorphic/operation-kinds";
import { STATUS } from "../isomorphic/status";
import { listLogBackupTemps } from "../log/log-backup";
import { newRecord, type OperationRecord } from "../operation";
import type { DatabaseContext, ResolvedContext } from "../operations/database-context";
import { OperationLedger, type LedgerRow } from "../operations/ledger";
import type { OperationRecorder } from "../operations/recorder";

/** An operation a crash interrupted, as recorded now: the failure policy counts automatic ones as failed attempts. */
export interface InterruptedOperation { trigger: Trigger; scheduledDate: Date | null; status: number; statusText: string }

export async function recoverInterrupted(db: DatabaseContext, recorder: OperationRecorder): Promise<{ messages: string[]; interrupted: InterruptedOperation[] }> {
  const messages: string[] = [];
  const interrupted: InterruptedOperation[] = [];
  const ledger = new OperationLedger(db.consoleDb, db.databaseDir);
  let ctx: ResolvedContext;
  try {
    ctx = await db.resolve();
  } catch (err) {
    return { messages: [`Recovery after a restart postponed: ${(err as Error).message}`], interrupted };
  }
  const verbose = ctx.settings.advanced.backupJournalVerboseMode;

  for (const row of ledger.interrupted()) {
    try {
      for (const t of row.tempPaths) await fs.rm(t, { force: true });
      const record = await interruptedRecord(row, ctx, db.clock.now());
      // A row marked "recorded" already has its history entry: only its journal block may be missing.
      await recorder.write(record, { verbose, history: row.recorded ? null : { ctx }, strict: true });
      ledger.finish(row.id, record.status, db.clock.now(), "recovered");
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

    const known = new Set((await db.history(ctx).read()).entries.filter(isCommittedBackup).map((e) => e.backupNumber));
    for (const a of await listArchives(ctx.destination, ctx.databaseName)) {
      if (known.has(a.number)) continue;
      const record = await recordFromArchive(a.path, { verify: true, note: "Recorded at start: this archive was missing from backupHistory.json." }).catch(() => null);
      if (!record || record.backupNumber !== a.number) continue; // not one of ours: leave it alone
      await recorder.write(record, { verbose, history: { ctx }, strict: true });
      messages.push(`Archive ${a.path} was missing from the history: verified (status ${record.status}) and recorded.`);
    }
  } catch (err) {
    messages.push(`Checking the destination after a restart failed: ${(err as Error).message}`);
  }
  return { messages, interrupted };
}

async function interruptedRecord(row: LedgerRow, ctx: ResolvedContext, now: Date): Promise<OperationRecord> {
  const committed = row.archivePath ? await fs.stat(row.archivePath).then(() => true, () => false) : false;
  if (committed && row.archivePath) {
    const note = "Recorded after a restart: the server stopped after the archive was committed.";
    const fromArchive = await recordFromArchive(row.archivePath, { verify: true, note }).catch(() => null);
    if (fromArchive) return fromArchive;
  }
  const text = committed
    ? `The backup was interrupted and its archive ${row.archivePath} can't be read.`
    : "The backup was interrupted: the server stopped during the backup. Its temporary files were removed.";
  return newRecord({
    operation: "backup", backupNumber: row.backupNumber ?? 0, trigger: row.trigger, archivePath: row.archivePath,
    structurePath: ctx.structureKey, scheduledDate: row.scheduledAt, startingDate: row.startedAt, endingDate: now,
    status: STATUS.BACKUP_ERROR, statusText: text, errors: [{ code: STATUS.BACKUP_ERROR, text }],
  });
}
