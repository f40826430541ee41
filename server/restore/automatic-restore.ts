// Automatic restore at server start (spec §6 `AutomaticRestore` / `AutomaticLogIntegration`, §5 `*** Automatic Full
// Backup Restore`; 4D's "Restore last backup if database is damaged"): before anything opens the data file, a damaged
// one (SQLITE_CORRUPT, SQLITE_NOTADB, a failed quick_check) is replaced by the newest backup whose data file passes
// its check, brought forward by the log, with the damaged files kept aside. A missing data file is not damage.
import Database from "better-sqlite3";
import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Bookkeeping } from "../data/bookkeeping";
import { listArchives } from "../archive/names";
import type { BackupEngine, ResolvedContext } from "../backup/backup-engine";
import { defaultLogSources, logDatabaseId } from "../backup/log-integration";
import { fsyncDir } from "../fs/atomic-write";
import { toHistoryEntry } from "../history/backup-history";
import { formatBlock } from "../journal/backup-journal";
import { collectOperations, integrateLog } from "../log/integrate";
import type { OperationRecord, Trigger } from "../operation";
import { DomainError, isDomainError } from "../errors";
import { STATUS } from "../isomorphic/status";
import { readArchiveContents, selectParts } from "../archive/contents";
import { AUTOMATIC_RESTORE_WORK, bookkeepingOf, moveIfExists, removeLeftRestoreWork, setDatabaseId, stamp } from "./data-file-tools";
import { restoreArchive } from "./restore-archive";
import { PRIVATE_DIR_MODE } from "../fs/safe-open";

export type DataFileCheck =
  | { state: "ok" }
  /** The file, or the folder (disk) holding it, is not there: not damage, and nothing to restore over. */
  | { state: "missing"; message: string }
  /** It is there but can't be examined (permissions, I/O error, locked): not damage either; nothing is touched. */
  | { state: "unreadable"; message: string }
  | { state: "damaged"; reason: string };

/** The work folder inside Data/ (same file system as the data file, so the swap is a rename); a crash may leave one. */
/** quick_check lines quoted in a reason: enough to say what is wrong without pasting hundreds of "never used" lines. */
const REASON_LINES = 3;

const STARTUP: Trigger = { kind: "startup", user: null };

const exists = (p: string) => fs.lstat(p).then(() => true, () => false);

/**
 * Is the data file usable? Opened read-only and checked with `PRAGMA quick_check` (every page and b-tree read;
 * O(N), without the index cross-checks of integrity_check). Read-only means nothing is written to a damaged file;
 * but SQLite opens a WAL database's -wal and -shm even then (creating them when absent, and a read-only
 * connection can't remove them on close): those it created are removed again, so a healthy database is left as
 * it was. That is safe here because the server holds the database's instance lock at start, so no other
 * connection of ours can be using them.
 */
export async function checkDataFile(dataFile: string): Promise<DataFileCheck> {
  const st = await fs.stat(dataFile).catch((err: NodeJS.ErrnoException) => err);
  if (st instanceof Error) {
    if (st.code === "ENOENT" || st.code === "ENOTDIR") return { state: "missing", message: await missingMessage(dataFile) };
    return { state: "unreadable", message: `The data file ${dataFile} can't be examined (${st.code ?? st.message}). Check its permissions and its disk.` };
  }
  if (!st.isFile()) return { state: "unreadable", message: `${dataFile} is not a file, so it can't be the data file.` };

  const sidecars = [`${dataFile}-wal`, `${dataFile}-shm`];
  const had = await Promise.all(sidecars.map(exists));
  let db: Database.Database | null = null;
  try {
    db = new Database(dataFile, { readonly: true, fileMustExist: true });
    const rows = db.pragma("quick_check") as Array<{ quick_check: string }>;
    const lines = rows.flatMap((r) => String(r.quick_check).split("\n")).filter((l) => l && !l.startsWith("*** in database"));
    if (rows.length === 1 && rows[0]!.quick_check === "ok") return { state: "ok" };
    const more = lines.length > REASON_LINES ? ` (and ${lines.length - REASON_LINES} more problem(s))` : "";
    return { state: "damaged", reason: `quick_check found: ${lines.slice(0, REASON_LINES).join("; ")}${more}` };
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? "");
    if (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB") {
      return { state: "damaged", reason: `SQLite reports ${code}: ${(err as Error).message}` };
    }
    return { state: "unreadable", message: `The data file ${dataFile} can't be opened (${code || "error"}: ${(err as Error).message}). ` +
      "This is not damage SQLite recognises, so it was not restored automatically: check its permissions and its disk." };
  } finally {
    db?.close();
    for (const [i, file] of sidecars.entries()) {
      if (had[i]) continue;
      // A -wal we created is empty (read-only writes nothing); one that holds frames is never ours to remove.
      const size = await fs.stat(file).then((s) => s.size, () => null);
      if (size !== null && (i === 1 || size === 0)) await fs.rm(file, { force: true }).catch(() => undefined);
    }
  }
}

/** Which part is gone: the file, or a folder on the way to it (an unmounted disk looks like that). */
async function missingMessage(dataFile: string): Promise<string> {
  let dir = path.dirname(dataFile);
  let gone: string | null = null;
  while (!(await fs.stat(dir).then((s) => s.isDirectory(), () => false))) {
    gone = dir;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  if (gone) {
    return `The folder ${gone}, which holds the data file ${dataFile}, is missing (is its disk mounted?). Nothing was restored: ` +
      "a missing data file is not a damaged one. Mount the disk or put the folder back, then restart the server.";
  }
  return `The data file ${dataFile} is missing. Nothing was restored: a missing data file is not a damaged one. ` +
    "Put it back, or restore it from the Restore page.";
}

export type LogIntegrationResult = { applied: number; lastOperation: number } | { problem: string };

export type StartupRestore =
  | { outcome: "missing" | "unreadable"; message: string }
  /** Damaged, and AutomaticRestore is off: nothing was changed. */
  | { outcome: "off"; damage: string; message: string }
  | {
      outcome: "restored";
      damage: string;
      /** The archive the data file came from. */
      restoredFrom: string;
      backupNumber: number;
      /** `Data/Damaged data file <time>/`: the damaged file with its -wal/-shm (and the old log, when a new chain starts). */
      damagedKeptIn: string;
      logIntegration: LogIntegrationResult;
      /** True when the log could not bring the file up to the current log: the database got a new id and a new log. */
      newLogChain: boolean;
      notes: string[];
      message: string;
    }
  /** Damaged, and no valid backup (or the restore itself failed): the damaged file is where it was. */
  | { outcome: "failed"; damage: string; message: string; notes: string[] };

export interface AutomaticRestoreOptions {
  /** For the settings (resolve), the history, the journal, the layout and the log sources. */
  engine: BackupEngine;
  now?: () => Date;
}

/**
 * At server start, before the data side opens the data file: null when it is fine; otherwise what happened, for
 * the console and the start-up messages. Never throws for a damaged file: a failure is recorded and returned.
 */
export async function automaticRestoreIfDamaged(opts: AutomaticRestoreOptions): Promise<StartupRestore | null> {
  const { engine } = opts;
  const now = opts.now ?? (() => new Date());
  const { layout } = engine;
  await removeLeftRestoreWork(layout.dataDir);
  const check = await checkDataFile(layout.dataFile);
  if (check.state === "ok") return null;
  if (check.state !== "damaged") return { outcome: check.state, message: check.message };
  const damage = check.reason;

  let ctx: ResolvedContext;
  const run = new AutomaticRun(engine, now, damage);
  try {
    ctx = await engine.resolve();
  } catch (err) {
    return run.failed(new DomainError(STATUS.BACKUP_ERROR, `The data file ${layout.dataFile} is damaged (${damage}), but the backup ` +
      `settings can't be read (${(err as Error).message}), so it was not restored automatically. Fix the settings file, then restart the server.`));
  }
  if (!ctx.settings.advanced.automaticRestore) {
    return { outcome: "off", damage, message: `The data file ${layout.dataFile} is damaged (${damage}) and automatic restore ` +
      "(AutomaticRestore) is off: nothing was changed. Restore it in place from the Restore page, or turn automatic restore on and restart the server." };
  }
  run.ctx = ctx;
  const work = path.join(layout.dataDir, `${AUTOMATIC_RESTORE_WORK}${crypto.randomBytes(4).toString("hex")}`);
  try {
    const chosen = await restoreNewestValid(run, ctx, work);
    const restored = path.join(work, "Data", "data.sqlite");
    const integration = ctx.settings.advanced.automaticLogIntegration
      ? await integrate(run, ctx, restored)
      : { result: { problem: "automatic log integration (AutomaticLogIntegration) is off" }, bookkeeping: bookkeepingOf(restored) };
    const continues = "applied" in integration.result && integration.bookkeeping !== null &&
      (await chainFiles(engine)).every((id) => id === integration.bookkeeping!.databaseId);
    const lastOperation = integration.bookkeeping?.lastOperation ?? 0;
    // The log no longer follows the restored file: the operations after it were not replayed, and their numbers
    // would be given again to new writes. A new id keeps the old chain's log files (log backups included) from
    // ever being mixed into the new one, as restore in place does.
    if (!continues && integration.bookkeeping) setDatabaseId(restored, crypto.randomUUID());
    await syncFile(restored);
    const aside = await swapIn(run, restored, { moveLog: !continues });
    run.record.notes.push(`Damaged files kept in : ${aside.folder} (${aside.moved.join(", ")})`);
    if (!continues) {
      run.record.notes.push(`A new log chain starts after operation ${lastOperation} (the database has a new id): back up now to have a backup of the restored data.`);
    }
    const log = integration.result;
    const message = `The data file ${layout.dataFile} was damaged (${damage}). It was restored automatically from ${chosen.archive} ` +
      `(backup #${chosen.backupNumber})` +
      ("applied" in log ? `, with the log integrated up to operation ${log.lastOperation}` : `, without the log: ${log.problem}`) +
      `. The damaged files are kept in ${aside.folder}.` + (continues ? "" : " A new log chain has started: back up now.");
    await run.finish();
    return { outcome: "restored", damage, restoredFrom: chosen.archive, backupNumber: chosen.backupNumber, damagedKeptIn: aside.folder,
      logIntegration: log, newLogChain: !continues, notes: run.record.notes, message };
  } catch (err) {
    const e = isDomainError(err) ? err : new DomainError(STATUS.BACKUP_ERROR, `The automatic restore failed: ${(err as Error).message}`);
    return run.failed(e);
  } finally {
    await fs.rm(work, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The operation's record, and its history entry and journal block once it ends. */
class AutomaticRun {
  readonly record: OperationRecord;
  ctx: ResolvedContext | null = null;

  constructor(readonly engine: BackupEngine, readonly now: () => Date, readonly damage: string) {
    const start = now();
    this.record = {
      operation: "automaticRestore", backupNumber: 0, trigger: STARTUP, archivePath: null, logBackupPath: null,
      structurePath: engine.layout.projectDir, dataPath: engine.layout.dataFile,
      content: { projectFiles: null, dataFile: null, attachmentFiles: null }, attachments: [], files: [], archive: null,
      scheduledDate: null, startingDate: start, endingDate: start, status: 0, statusText: "OK", partial: false, errors: [],
      notes: [`Damaged data file : ${engine.layout.dataFile} (${damage})`],
    };
  }

  /** A failure: the damaged file stays where it is; recorded like any failed operation. */
  async failed(e: DomainError): Promise<StartupRestore> {
    const message = `The data file ${this.engine.layout.dataFile} is damaged (${this.damage}) and could not be restored automatically: ` +
      `${e.message} The damaged file was left where it is.`;
    this.record.status = e.status ?? STATUS.BACKUP_ERROR;
    this.record.statusText = e.message;
    this.record.errors.push({ code: e.status ?? STATUS.BACKUP_ERROR, text: e.message });
    await this.finish();
    return { outcome: "failed", damage: this.damage, message, notes: this.record.notes };
  }

  /**
   * History (spec §4 records restores as `restore`: an automatic one is told apart by its trigger, `startup`) and
   * journal (`*** Automatic Full Backup Restore`). Neither failing undoes the restore: a history problem becomes a
   * note in the block, a journal problem goes to the server's output.
   */
  async finish(): Promise<void> {
    const r = this.record;
    r.endingDate = this.now();
    if (this.ctx) {
      await this.engine.history(this.ctx).append({ ...toHistoryEntry(r), operation: "restore" }, { oldestKeptNumber: null })
        .catch((err: Error) => r.notes.push(`Warning: backupHistory.json could not be written: ${err.message}`));
    }
    const verbose = this.ctx?.settings.advanced.backupJournalVerboseMode ?? true;
    await this.engine.journal.append(formatBlock(r, { verbose }))
      .catch((err: Error) => console.error(`[strongbox] the backup journal could not be written: ${err.message}`));
  }
}

/**
 * The newest archive of this database whose data file restores with its SHA-256 checked and passes quick_check
 * itself (a backup taken after the damage began would bring it back). Damaged archives are skipped with a note.
 */
async function restoreNewestValid(run: AutomaticRun, ctx: ResolvedContext, work: string): Promise<{ archive: string; backupNumber: number }> {
  const archives = (await listArchives(ctx.destination, ctx.databaseName)).reverse();
  if (archives.length === 0) {
    throw new DomainError(STATUS.BACKUP_ERROR, `There is no backup of this database (${ctx.databaseName}) in ${ctx.destination} to restore it from.`);
  }
  const skip = (archive: string, why: string) => run.record.notes.push(`Archive skipped : ${archive} (${why})`);
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
    const restored = path.join(work, "Data", "data.sqlite");
    const check = await checkDataFile(restored);
    if (check.state !== "ok") {
      skip(a.path, `its data file is damaged too: ${check.state === "damaged" ? check.reason : check.message}`);
      await fs.rm(work, { recursive: true, force: true });
      continue;
    }
    run.record.archivePath = a.path;
    run.record.backupNumber = contents.manifest.backupNumber;
    run.record.content.dataFile = { bytes: (await fs.stat(restored)).size };
    return { archive: a.path, backupNumber: contents.manifest.backupNumber };
  }
  throw new DomainError(STATUS.ARCHIVE_CHECK_FAILED, `None of the ${archives.length} archive(s) of this database in ${ctx.destination} ` +
    "holds a data file that passes its check (see the skipped archives above).");
}

/**
 * Replays the operations logged after the snapshot (log backups, closed segments, current log of this database's
 * id) into the restored copy. A log that can't be integrated (a gap, another database's, a record that fails)
 * leaves the copy as it is — whole, at the last operation integrated — and says why.
 */
async function integrate(run: AutomaticRun, ctx: ResolvedContext, restored: string): Promise<{ result: LogIntegrationResult; bookkeeping: Bookkeeping | null }> {
  const before = bookkeepingOf(restored);
  const notes = run.record.notes;
  const verbose = ctx.settings.advanced.backupJournalVerboseMode;
  try {
    if (!before) throw new DomainError(STATUS.FOREIGN_LOG_FILE, "the restored data file has no Strongbox bookkeeping, so no log can be integrated into it");
    const sources = await defaultLogSources(run.engine, ctx, { databaseId: before.databaseId });
    const records = await collectOperations({ sources, databaseId: before.databaseId, afterOperation: before.lastOperation });
    const r = await integrateLog({ dataFile: restored, records, databaseId: before.databaseId, afterOperation: before.lastOperation });
    if (verbose) for (const s of sources) notes.push(`Log file read : ${s}`);
    notes.push(records.length === 0
      ? `Log integrated : nothing to integrate, the backup holds every logged operation (up to ${before.lastOperation}).`
      : `Log integrated : operations ${records[0]!.op} to ${r.lastOperation} (${r.applied} operation${r.applied === 1 ? "" : "s"}).`);
    return { result: r, bookkeeping: bookkeepingOf(restored) };
  } catch (err) {
    const problem = (err as Error).message;
    notes.push(`Log not integrated : ${problem}`);
    return { result: { problem }, bookkeeping: bookkeepingOf(restored) };
  }
}

/** The database ids of the current log file and the closed segments (the chain new writes would continue). */
async function chainFiles(engine: BackupEngine): Promise<Array<string | null>> {
  const { logFile, logSegmentsDir } = engine.layout;
  const segments = (await fs.readdir(logSegmentsDir).catch(() => [] as string[])).filter((n) => n.endsWith(".journal"));
  const files = [...((await exists(logFile)) ? [logFile] : []), ...segments.map((n) => path.join(logSegmentsDir, n))];
  return Promise.all(files.map(logDatabaseId));
}

/**
 * The swap: the damaged data file is hard-linked into `Data/Damaged data file <time>/` (so that a data file is in
 * place at every instant: a crash here restarts the automatic restore), its -wal and -shm moved there (a stale WAL
 * beside the restored file would be replayed into it and corrupt it), then the restored file renamed over it, and
 * the folder flushed. With `moveLog`, the old log file and its closed segments follow, so a new chain starts.
 * Nothing is ever deleted. A failure before the rename puts the moved files back.
 */
async function swapIn(run: AutomaticRun, restored: string, opts: { moveLog: boolean }): Promise<{ folder: string; moved: string[] }> {
  const { layout } = run.engine;
  const folder = await freeName(path.join(layout.dataDir, `Damaged data file ${stamp(run.now())}`));
  await fs.mkdir(folder, { mode: PRIVATE_DIR_MODE });
  const name = path.basename(layout.dataFile);
  const kept = path.join(/*turbopackIgnore: true*/ folder, name);
  const undo: Array<[from: string, to: string]> = [];
  let linked = false;
  try {
    try {
      await fs.link(layout.dataFile, kept);
      linked = true;
    } catch {
      // No hard links on this file system: moved instead (a crash before the next rename leaves the file aside).
      await fs.rename(layout.dataFile, kept);
      undo.push([layout.dataFile, kept]);
    }
    for (const sidecar of [`${layout.dataFile}-wal`, `${layout.dataFile}-shm`]) {
      if (await moveIfExists(sidecar, path.join(/*turbopackIgnore: true*/ folder, path.basename(sidecar)))) undo.push([sidecar, path.join(/*turbopackIgnore: true*/ folder, path.basename(sidecar))]);
    }
    await fs.rename(restored, layout.dataFile);
  } catch (err) {
    for (const [from, to] of undo.reverse()) await fs.rename(to, from).catch(() => undefined);
    if (linked) await fs.rm(kept, { force: true }).catch(() => undefined);
    await fs.rmdir(folder).catch(() => undefined);
    throw new DomainError(STATUS.BACKUP_ERROR, `The restored data file could not be put in place (${(err as Error).message}); ` +
      "the damaged one was left where it is.", { cause: err });
  }
  // The restored file is in place: what fails from here is a warning in the journal, never "nothing was restored".
  const moved = [name, ...undo.filter(([from]) => from !== layout.dataFile).map(([from]) => path.basename(from))];
  try {
    await fsyncDir(layout.dataDir);
    if (opts.moveLog) {
      // After the data file is in place: a crash here leaves a log that doesn't match it, which the start refuses
      // (1416) with a message, rather than losing its operations silently.
      if (await moveIfExists(layout.logFile, path.join(/*turbopackIgnore: true*/ folder, path.basename(layout.logFile)))) moved.push(path.basename(layout.logFile));
      const segments = await fs.readdir(layout.logSegmentsDir).catch(() => [] as string[]);
      if (segments.length) {
        await fs.mkdir(path.join(folder, "Log segments"), { mode: PRIVATE_DIR_MODE });
        for (const s of segments) await fs.rename(path.join(layout.logSegmentsDir, s), path.join(folder, "Log segments", s));
        moved.push(`${segments.length} closed log segment(s) in Log segments/`);
        await fsyncDir(layout.logSegmentsDir);
      }
      await fsyncDir(layout.dataDir);
    }
    await fsyncDir(folder);
  } catch (err) {
    run.record.notes.push(opts.moveLog
      ? `Warning: after the restored data file was put in place, the old log could not all be moved to ${folder} ` +
        `(${(err as Error).message}): move ${layout.logFile} and ${layout.logSegmentsDir} there by hand before writing to the database.`
      : `Warning: the folders could not be flushed after the restored data file was put in place: ${(err as Error).message}`);
  }
  return { folder, moved };
}




/** The restored copy is on disk before it is renamed into place (integrateLog commits with synchronous=NORMAL). */
async function syncFile(file: string): Promise<void> {
  const fh = await fs.open(file, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}


async function freeName(base: string): Promise<string> {
  if (!(await exists(base))) return base;
  for (let n = 2; ; n++) if (!(await exists(`${base}-${n}`))) return `${base}-${n}`;
}

/** `20261126-030001`, in UTC like restore in place's `Replaced data file <time>` folders beside it. */
