// Startup (docs/operations.md#startup): the structure lock, the settings, the destination, the number and the
// temporary names, the ledger row that crash recovery reads, and the On Backup Startup hook.
import fs from "node:fs/promises";
import path from "node:path";
import { archiveName, tempArchiveName, tempSnapshotName } from "../../archive/names";
import { DomainError } from "../../errors";
import { STATUS } from "../../isomorphic/status";
import type { ResolvedContext } from "../../operations/database-context";
import type { TaskContext } from "../../operations/task";
import type { BackupOptions, BackupProgress, Started } from "../backup-run";
import { checkDestination } from "../destination";
import { nextNumber } from "../numbering";
import { snapshotSidecars } from "../snapshot";
import { runStartupHook } from "./hooks";

export async function startUp(ctx: TaskContext, opts: BackupOptions, reached: BackupProgress): Promise<Started> {
  const { db, record, signal } = ctx;
  // The structure lock comes before the settings are read: a save can't then slip in between, leaving the backup
  // running on settings other than the Settings/ it archives. Let go at once when the structure isn't saved.
  const releaseStructure = await db.locks.acquire("structure", { signal });
  ctx.atEnd(releaseStructure);
  let settings: ResolvedContext;
  try {
    settings = await ctx.settings();
  } catch (err) {
    throw new DomainError(STATUS.BACKUP_ERROR, `The backup settings can't be used: ${(err as Error).message}`, { cause: err });
  }
  reached.settings = settings;
  for (const r of settings.refusedAttachments) record.notes.push(`Attachment refused: ${r.path} (${r.reason})`);
  reached.destination = await checkDestination(settings.destination, { databaseDir: db.databaseDir, home: db.home });

  const number = await nextNumber(db.history(settings), settings.destination, settings.databaseName, record.notes);
  record.backupNumber = number;
  record.archivePath = path.join(settings.destination, archiveName(settings.databaseName, number));
  const tempArchive = path.join(settings.destination, tempArchiveName(settings.databaseName, number));
  const tempSnapshot = path.join(settings.destination, tempSnapshotName(settings.databaseName, number));
  const temps = [tempArchive, ...snapshotSidecars(tempSnapshot)];
  ctx.removeAtEnd(...temps);
  // A file under these names is a leftover of an earlier attempt (one whose folder disappeared and came back, a
  // crash the start could not clean up): only this server writes them, and the snapshot won't overwrite one.
  for (const t of temps) if (await fs.rm(t).then(() => true, () => false)) record.notes.push(`Removed ${t}, left by an earlier attempt.`);
  ctx.beginLedger({ backupNumber: number, archivePath: record.archivePath, tempPaths: temps });
  ctx.progress.update({ backupNumber: number, archivePath: record.archivePath }, true);
  ctx.progress.preview();
  await runStartupHook(ctx, opts, settings);
  return { settings, number, tempArchive, tempSnapshot, releaseStructure };
}
