// What the Backup page shows besides the running operation (docs/console.md#backup-page): the destination with its
// space, the last backup, the content of the next backup with its estimated size. Read-only; computed on request.
import fs from "node:fs/promises";
import path from "node:path";
import { HISTORY_FILE_NAME, type HistoryEntry } from "../history/backup-history";
import { lastBackups, type LastBackupInfo } from "../history/last-backup";
import type { StartupRestore } from "../restore/data-file-check";
import { attachmentEntry } from "../database/layout";
import type { LastAttempts, RememberedEntry } from "../operations/last-attempts";
import type { DatabaseContext } from "../operations/database-context";
import { listArchives } from "../archive/names";
import type { BackupSettings } from "../settings/model";
import { collect, type CollectedEntry } from "./collect";
import { archiveRatios, estimateArchiveBytes, ROUGH_RATIO } from "../zip/size-estimate";

export interface BackupOverview {
  databaseDir: string;
  databaseName: string | null;
  settingsError: string | null;
  destination: null | { path: string; exists: boolean; freeBytes: number | null; totalBytes: number | null; archives: number; archivesBytes: number };
  /** The newest backup attempt known, also one whose history is in another (or a lost) destination. */
  lastBackup: LastBackupInfo | null;
  /** The last backup that committed an archive, when the newest attempt did not (failed, stopped). */
  lastCommitted: LastBackupInfo | null;
  /** When the scheduler runs the next backup; null when none is scheduled, or automatic backups are off. */
  nextBackup: string | null;
  /** Automatic backups turned off after 1401: since when, why, and until what (instead of a next date). */
  automaticBackupsOff: { since: string; text: string; until: string } | null;
  historyPath: string | null;
  /** What the server found wrong with the data file at start (automatic restore, docs/settings.md), or null. */
  startupRestore: StartupRestore | null;
  content: null | {
    structure: { files: number; bytes: number } | null;
    dataFile: { bytes: number } | null;
    attachments: Array<{ path: string; found: boolean; files: number; bytes: number }>;
    refused: Array<{ path: string; reason: string }>;
    totalBytes: number;
    estimatedArchiveBytes: number;
    /** The archive whose ratio per kind of file the estimate uses; null: none yet (a rough ratio). */
    estimateFrom: string | null;
    compression: string;
    keepLast: number | null;
    /** Plain-English warnings about the settings (e.g. a run that leaves no backup on disk meanwhile). */
    warnings: string[];
  };
}

const located = (e: RememberedEntry | null) => (e ? { entry: e, historyPath: e.historyPath } : null);

/** What turns automatic backups back on after 1401 (docs/operations.md). */
export const AUTOMATIC_OFF_UNTIL = "until the server restarts or a manual backup succeeds";


const sum = (es: CollectedEntry[]) => es.reduce((n, e) => n + e.size, 0);
const countFiles = (es: CollectedEntry[]) => es.filter((e) => e.kind !== "directory").length;

/**
 * `content: false` skips the walk of every file the next backup would hold (BACKUP INFO doesn't show it, and
 * programs poll it).
 */
export async function backupOverview(db: DatabaseContext, lastAttempts: LastAttempts, nextBackup: Date | null,
  opts: { content?: boolean; startupRestore?: StartupRestore | null; automaticOff?: { since: string; text: string } | null } = {}): Promise<BackupOverview> {
  // After 1401 the scheduler's next time is not a backup that will run: what is true is "off until …".
  const off = opts.automaticOff ? { ...opts.automaticOff, until: AUTOMATIC_OFF_UNTIL } : null;
  const out: BackupOverview = { databaseDir: db.databaseDir, databaseName: null, settingsError: null, destination: null,
    lastBackup: null, lastCommitted: null, nextBackup: off ? null : (nextBackup?.toISOString() ?? null), automaticBackupsOff: off, historyPath: null,
    startupRestore: opts.startupRestore ?? null, content: null };
  // The last attempts remembered in console.sqlite: what is shown when the history has nothing newer (it could not
  // be written, it is in another destination, or the settings can't be read).
  const remembered = { attempt: located(lastAttempts.last()), committed: located(lastAttempts.lastCommitted()) };
  let ctx;
  try {
    ctx = await db.resolve();
  } catch (err) {
    out.settingsError = (err as Error).message;
    Object.assign(out, await lastBackups(null, remembered));
    return out;
  }
  out.databaseName = ctx.databaseName;
  const archives = await listArchives(ctx.destination, ctx.databaseName);
  const st = await fs.statfs(ctx.destination).catch(() => null);
  const exists = await fs.stat(ctx.destination).then((s) => s.isDirectory(), () => false);
  out.destination = {
    path: ctx.destination, exists,
    freeBytes: exists && st ? st.bavail * st.bsize : null, totalBytes: exists && st ? st.blocks * st.bsize : null,
    archives: archives.length, archivesBytes: archives.reduce((n, a) => n + a.size, 0),
  };
  out.historyPath = path.join(ctx.destination, HISTORY_FILE_NAME);
  const { entries } = await db.history(ctx).read().catch(() => ({ entries: [] as HistoryEntry[] }));
  Object.assign(out, await lastBackups({ entries, path: out.historyPath }, remembered));
  if (opts.content === false) return out;
  const { includeStructureFile, includeDataFile } = ctx.settings.general;
  const collected = await collect({ databaseDir: db.databaseDir, includeStructure: includeStructureFile, includeData: includeDataFile, attachments: ctx.attachments });
  const dataBytes = includeDataFile ? await fs.stat(db.layout.dataFile).then((s) => s.size, () => 0) : 0;
  const attachments = collected.attachmentResults.map((a) => {
    const prefix = attachmentEntry(a.attachmentPath);
    const mine = collected.attachments.filter((e) => e.name === prefix || e.name.startsWith(prefix + "/"));
    return { path: a.attachmentPath, found: a.found, files: countFiles(mine), bytes: sum(mine) };
  });
  const totalBytes = sum(collected.structure) + sum(collected.dataSettings) + dataBytes + sum(collected.attachments);
  // What each kind of file became in the last archive; a kind it did not hold, or no archive, gets a rough ratio.
  const lastArchive = archives.at(-1) ?? null;
  const ratios = lastArchive ? await fs.stat(lastArchive.path).then((s) => archiveRatios(lastArchive.path, s.mtimeMs)).catch(() => null) : null;
  const files = [...collected.structure, ...collected.dataSettings, ...collected.attachments, { name: path.basename(db.layout.dataFile), size: dataBytes }];
  out.content = {
    structure: includeStructureFile ? { files: countFiles(collected.structure), bytes: sum(collected.structure) } : null,
    dataFile: includeDataFile ? { bytes: dataBytes + sum(collected.dataSettings) } : null,
    attachments, refused: ctx.refusedAttachments, totalBytes,
    estimatedArchiveBytes: estimateArchiveBytes(files, ratios, ROUGH_RATIO[ctx.settings.advanced.compressionRate]),
    estimateFrom: ratios && lastArchive ? lastArchive.path : null,
    compression: ctx.settings.advanced.compressionRate,
    keepLast: ctx.settings.advanced.setNumber.enable ? ctx.settings.advanced.setNumber.value : null,
    warnings: eraseBeforeWarning(ctx.settings),
  };
  return out;
}

/** "Erase old backup before" with "keep only the last 1" deletes the only archive before the new one exists. */
function eraseBeforeWarning(settings: BackupSettings): string[] {
  const { eraseOldBackupBefore, setNumber } = settings.advanced;
  return eraseOldBackupBefore && setNumber.enable && setNumber.value <= 1
    ? ["With \"erase old backup before\" and \"keep only the last 1\", the previous archive is deleted before the new one is written: no backup exists while a backup runs, nor after a failed one."]
    : [];
}
