// Automatic restore at server start (docs/operations.md#automatic-restore; `AutomaticRestore` and
// `AutomaticLogIntegration`, 4D's "Restore last backup if database is damaged"): before anything opens the data
// file, a damaged one is replaced by the newest backup whose data file passes its check, brought forward by the
// log, with the damaged files kept aside. It runs in the runner's slot like every operation (the slot is free at
// start) and is recorded as `*** Automatic Full Backup Restore` (trigger `startup`) and, in the history, as a
// `restore`; the Backup page shows its result as a banner, not as the last operation.
import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { readArchiveContents, selectParts } from "../archive/contents";
import { listArchives } from "../archive/names";
import { bookkeepingOf, setDatabaseId, type Bookkeeping } from "../data/bookkeeping";
import { DATA_FILE_ENTRY } from "../database/layout";
import { DomainError, isDomainError } from "../errors";
import type { Trigger } from "../isomorphic/operation-kinds";
import { STATUS } from "../isomorphic/status";
import { integrateLogInto, logDatabaseId, logPlaces } from "../log/integration";
import type { DatabaseContext, ResolvedContext } from "../operations/database-context";
import type { OperationRunner } from "../operations/runner";
import type { Task, TaskContext } from "../operations/task";
import { checkDataFile, type LogIntegrationResult, type StartupRestore } from "./data-file-check";
import { AUTOMATIC_RESTORE_WORK, removeLeftRestoreWork, stamp } from "./data-file-tools";
import { swapDataFile, syncFile } from "./data-file-swap";
import { restoreArchive } from "./restore-archive";

const STARTUP: Trigger = { kind: "startup", user: null };

/**
 * At server start, before the data side opens the data file: null when it is fine; otherwise what happened, for
 * the console and the start-up messages. Never throws for a damaged file: a failure is recorded and returned.
 */
export async function automaticRestoreIfDamaged(db: DatabaseContext, runner: OperationRunner): Promise<StartupRestore | null> {
  const { layout } = db;
  // A restore that a crash interrupted leaves its work folder (as big as the data file) beside the data file.
  await removeLeftRestoreWork(layout.dataDir);
  const check = await checkDataFile(layout.dataFile);
  if (check.state === "ok") return null;
  if (check.state !== "damaged") return { outcome: check.state, message: check.message };
  const damage = check.reason;
  // Settings that can't be read are recorded as the restore's failure (the task says so); turned off, nothing is.
  const enabled = await db.resolve().then((c) => c.settings.advanced.automaticRestore, () => true);
  if (!enabled) {
    return { outcome: "off", damage, message: `The data file ${layout.dataFile} is damaged (${damage}) and automatic restore ` +
      "(AutomaticRestore) is off: nothing was changed. Restore it in place from the Restore page, or turn automatic restore on and restart the server." };
  }
  const restore = automaticRestoreTask(db, damage);
  const outcome = await runner.start(restore.task).done;
  if (outcome.status === 0 && restore.restored) return restore.restored;
  return { outcome: "failed", damage, notes: restore.notes(),
    message: `The data file ${layout.dataFile} is damaged (${damage}) and could not be restored automatically: ${outcome.statusText} The damaged file was left where it is.` };
}

export function automaticRestoreTask(db: DatabaseContext, damage: string): { task: Task; restored: Extract<StartupRestore, { outcome: "restored" }> | null; notes(): string[] } {
  const { layout } = db;
  let record: TaskContext["record"] | null = null;
  const out = {
    restored: null as Extract<StartupRestore, { outcome: "restored" }> | null,
    notes: () => record?.notes ?? [],
    task: {
      kind: "restoreInPlace",
      trigger: STARTUP,
      record: { operation: "automaticRestore", structurePath: layout.projectDir, dataPath: layout.dataFile, notes: [`Damaged data file : ${layout.dataFile} (${damage})`] },
      // backupHistory.json records restores as `restore`: an automatic one is told apart by its trigger, `startup`.
      historyEntry: (_record, entry) => ({ ...entry, operation: "restore" }),
      // No console is connected yet, and the Backup page's banner tells the result.
      announce: false,
      async run(ctx) {
        record = ctx.record;
        let settings: ResolvedContext;
        try {
          settings = await ctx.settings();
        } catch (err) {
          throw new DomainError(STATUS.BACKUP_ERROR, `The data file ${layout.dataFile} is damaged (${damage}), but the backup settings can't be read ` +
            `(${(err as Error).message}), so it was not restored automatically. Fix the settings file, then restart the server.`);
        }
        const work = path.join(layout.dataDir, `${AUTOMATIC_RESTORE_WORK}${crypto.randomBytes(4).toString("hex")}`);
        ctx.removeAtEnd(work);
        ctx.progress.phase("restore", 1);
        const chosen = await restoreNewestValid(ctx, settings, work);
        const restored = path.join(work, DATA_FILE_ENTRY);
        ctx.progress.phase("integrate", 60);
        const integration = settings.settings.advanced.automaticLogIntegration
          ? await integrate(ctx, settings, restored)
          : { result: { problem: "automatic log integration (AutomaticLogIntegration) is off" }, bookkeeping: bookkeepingOf(restored) };
        const continues = "applied" in integration.result && integration.bookkeeping !== null &&
          (await chainFiles(db)).every((id) => id === integration.bookkeeping!.databaseId);
        const lastOperation = integration.bookkeeping?.lastOperation ?? 0;
        // The log no longer follows the restored file: the operations after it were not replayed, and their numbers
        // would be given again to new writes. A new id keeps the old chain's log files (log backups included) from
        // ever being mixed into the new one, as restore in place does.
        if (!continues && integration.bookkeeping) setDatabaseId(restored, crypto.randomUUID());
        await syncFile(restored);
        ctx.progress.phase("swap", 95);
        const aside = await swapDataFile({ layout, restored, asideName: `Damaged data file ${stamp(ctx.clock.now())}`, moveLog: !continues });
        ctx.record.notes.push(`Damaged files kept in : ${aside.folder} (${aside.moved.join(", ")})`, ...aside.warnings);
        if (!continues) {
          ctx.record.notes.push(`A new log chain starts after operation ${lastOperation} (the database has a new id): back up now to have a backup of the restored data.`);
        }
        const log = integration.result;
        const message = `The data file ${layout.dataFile} was damaged (${damage}). It was restored automatically from ${chosen.archive} ` +
          `(backup #${chosen.backupNumber})` +
          ("applied" in log ? `, with the log integrated up to operation ${log.lastOperation}` : `, without the log: ${log.problem}`) +
          `. The damaged files are kept in ${aside.folder}.` + (continues ? "" : " A new log chain has started: back up now.");
        out.restored = { outcome: "restored", damage, restoredFrom: chosen.archive, backupNumber: chosen.backupNumber, damagedKeptIn: aside.folder,
          logIntegration: log, newLogChain: !continues, notes: ctx.record.notes, message };
      },
    } satisfies Task,
  };
  return out;
}

/**
 * The newest archive of this database whose data file restores with its SHA-256 checked and passes quick_check
 * itself (a backup taken after the damage began would bring it back). Damaged archives are skipped with a note.
 */
async function restoreNewestValid(ctx: TaskContext, settings: ResolvedContext, work: string): Promise<{ archive: string; backupNumber: number }> {
  const { record } = ctx;
  const archives = (await listArchives(settings.destination, settings.databaseName)).reverse();
  if (archives.length === 0) {
    throw new DomainError(STATUS.BACKUP_ERROR, `There is no backup of this database (${settings.databaseName}) in ${settings.destination} to restore it from.`);
  }
  const skip = (archive: string, why: string) => record.notes.push(`Archive skipped : ${archive} (${why})`);
  for (const a of archives) {
    const contents = await readArchiveContents(a.path).catch((err: Error) => err);
    if (contents instanceof Error) {
      skip(a.path, contents.message);
      continue;
    }
    if (contents.dataFile.files === 0) {
      skip(a.path, "it holds no data file");
      continue;
    }
    try {
      await restoreArchive({ archivePath: a.path, target: work, select: selectParts(contents.manifest, { dataFile: true }) });
    } catch (err) {
      // Damage in the archive: the next one may be whole. Anything else (disk full…) would fail them all alike.
      if (isDomainError(err) && err.status === STATUS.ARCHIVE_CHECK_FAILED) {
        skip(a.path, err.message);
        continue;
      }
      throw err;
    }
    const restored = path.join(work, DATA_FILE_ENTRY);
    const check = await checkDataFile(restored);
    if (check.state !== "ok") {
      skip(a.path, `its data file is damaged too: ${check.state === "damaged" ? check.reason : check.message}`);
      await fs.rm(work, { recursive: true, force: true });
      continue;
    }
    record.archivePath = a.path;
    record.backupNumber = contents.manifest.backupNumber;
    record.content.dataFile = { bytes: (await fs.stat(restored)).size };
    return { archive: a.path, backupNumber: contents.manifest.backupNumber };
  }
  throw new DomainError(STATUS.ARCHIVE_CHECK_FAILED, `None of the ${archives.length} archive(s) of this database in ${settings.destination} ` +
    "holds a data file that passes its check (see the skipped archives above).");
}

/**
 * Replays the operations logged after the snapshot (log backups, closed segments, current log of this database's
 * id) into the restored copy. A log that can't be integrated (a gap, another database's, a record that fails)
 * leaves the copy as it is — whole, at the last operation integrated — and says why.
 */
async function integrate(ctx: TaskContext, settings: ResolvedContext, restored: string): Promise<{ result: LogIntegrationResult; bookkeeping: Bookkeeping | null }> {
  const notes = ctx.record.notes;
  try {
    const r = await integrateLogInto({ dataFile: restored, places: logPlaces(ctx.db.layout, settings) });
    for (const s of r.sources) notes.push(`Log file read : ${s}`);
    notes.push(r.firstOperation === null
      ? `Log integrated : nothing to integrate, the backup holds every logged operation (up to ${r.before.lastOperation}).`
      : `Log integrated : operations ${r.firstOperation} to ${r.lastOperation} (${r.applied} operation${r.applied === 1 ? "" : "s"}).`);
    return { result: { applied: r.applied, lastOperation: r.lastOperation }, bookkeeping: bookkeepingOf(restored) };
  } catch (err) {
    const problem = (err as Error).message;
    notes.push(`Log not integrated : ${problem}`);
    return { result: { problem }, bookkeeping: bookkeepingOf(restored) };
  }
}

/** The database ids of the current log file and the closed segments (the chain new writes would continue). */
async function chainFiles(db: DatabaseContext): Promise<Array<string | null>> {
  const { logFile, logSegmentsDir } = db.layout;
  const segments = (await fs.readdir(logSegmentsDir).catch(() => [] as string[])).filter((n) => n.endsWith(".journal"));
  const hasLog = await fs.lstat(logFile).then(() => true, () => false);
  const files = [...(hasLog ? [logFile] : []), ...segments.map((n) => path.join(logSegmentsDir, n))];
  return Promise.all(files.map(logDatabaseId));
}
