// Restores and verifications as engine operations (issue 6; spec §4, §5, §7): they run in the engine's one slot with
// the same progress and Stop as a backup, and are recorded in the history and the journal like every operation.
// - restore to a folder: chosen parts of an archive, then optionally the log integrated into the restored data file;
// - restore in place: the live data file replaced while the server runs (writes wait), optionally brought forward
//   by the log — or back to a chosen operation (rollback);
// - verification: archives read back against their manifests.
import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Bookkeeping } from "../data/bookkeeping";
import type { CurrentLog } from "../log/current-log";
import type { DataStore } from "../data/data-store";
import type { BackupEngine, ResolvedContext } from "../backup/backup-engine";
import { defaultLogSources, type OperationControls } from "../backup/log-integration";
import type { TaskKind } from "../isomorphic/phases";
import type { OperationOutcome } from "../operations/progress";
import { stoppedError } from "../backup/stop-reason";
import { fsyncDir } from "../fs/atomic-write";
import { makePrivateDir } from "../fs/safe-open";
import { toHistoryEntry } from "../history/backup-history";
import { formatBlock, formatSize } from "../journal/backup-journal";
import { collectOperations, integrateLog } from "../log/integrate";
import type { OperationRecord, Trigger } from "../operation";
import { DomainError, isDomainError } from "../errors";
import { STATUS } from "../isomorphic/status";
import { readArchiveContents, selectParts, type PartSelection } from "../archive/contents";
import { verifyArchiveFile } from "./verify-archive";
import { bookkeepingOf, moveIfExists, RESTORE_IN_PLACE_WORK, setDatabaseId, stamp } from "./data-file-tools";
import { restoreArchive } from "./restore-archive";
import type { ForbiddenPlaces } from "./restore-target";
import type { VerificationStore } from "./verification-store";

export interface RestoreToFolderRequest {
  archivePath: string;
  target: string;
  parts: PartSelection;
  overwrite: boolean;
  /** Replay the log into the restored data file (needs `parts.dataFile`). */
  integrateLog: boolean;
  /** With integrateLog: also the current log file (else only the log backups and closed segments). */
  includeCurrentLog: boolean;
  trigger: Trigger;
}

export interface RestoreInPlaceRequest {
  archivePath: string;
  /** Bring the restored data file forward with the log (all of it, or up to `upToOperation`). */
  integrateLog: boolean;
  /** Rollback: the data returns to the state just after this operation. */
  upToOperation?: number | null;
  trigger: Trigger;
}

/** What restore in place needs besides the engine: the data API's store (it lets go of the file) and the log. */
export interface LiveData {
  store: DataStore;
  log: CurrentLog;
}

/** An operation's record and the lines the console shows about where things went. */
class Run {
  readonly record: OperationRecord;
  readonly details: string[] = [];
  ctx: ResolvedContext | null = null;
  verbose = true;

  constructor(readonly engine: BackupEngine, readonly kind: TaskKind, readonly operationId: string, trigger: Trigger, archivePath: string | null, operation: OperationRecord["operation"]) {
    const now = new Date();
    this.record = {
      operation, backupNumber: 0, trigger, archivePath, logBackupPath: null, structurePath: engine.layout.projectDir, dataPath: "",
      content: { projectFiles: null, dataFile: null, attachmentFiles: null }, attachments: [], files: [], archive: null,
      scheduledDate: null, startingDate: now, endingDate: now, status: 0, statusText: "OK", partial: false, errors: [], notes: [],
    };
  }

  async resolve(): Promise<ResolvedContext> {
    this.ctx = await this.engine.resolve();
    this.verbose = this.ctx.settings.advanced.backupJournalVerboseMode;
    return this.ctx;
  }

  fail(err: unknown, signal: AbortSignal, stoppedText: string): void {
    const e = signal.aborted ? stoppedError(signal, stoppedText)
      : isDomainError(err) ? err
      : new DomainError(STATUS.BACKUP_ERROR, `${(err as Error)?.message ?? String(err)}`);
    this.record.status = e.status ?? STATUS.BACKUP_ERROR;
    this.record.statusText = e.message;
    this.record.errors.push({ code: e.status ?? STATUS.BACKUP_ERROR, text: e.message });
  }

  /** History (when the destination is known), journal, and the outcome. */
  async finish(recordInHistory = true): Promise<OperationOutcome> {
    const r = this.record;
    r.endingDate = new Date();
    r.notes.push(...this.details);
    if (this.ctx && recordInHistory) {
      await this.engine.history(this.ctx).append(toHistoryEntry(r), { oldestKeptNumber: null })
        .catch((err: Error) => this.details.push(`Warning: backupHistory.json could not be written: ${err.message}`));
    }
    await this.engine.journal.append(formatBlock(r, { verbose: this.verbose }))
      .catch((err: Error) => console.error(`[strongbox] the backup journal could not be written: ${err.message}`));
    return {
      operationId: this.operationId, kind: this.kind, trigger: r.trigger, backupNumber: r.backupNumber, status: r.status,
      statusText: r.statusText, partial: false, archivePath: r.archivePath, startingDate: r.startingDate.toISOString(),
      endingDate: r.endingDate.toISOString(), details: this.details,
    };
  }
}

/** The bookkeeping a log integration needs: a data file without it can't take any log. */
function requireBookkeeping(dataFile: string): Bookkeeping {
  const b = bookkeepingOf(dataFile);
  if (!b) throw new DomainError(STATUS.FOREIGN_LOG_FILE, `${dataFile} has no Strongbox bookkeeping, so no log can be integrated into it.`);
  return b;
}

/** Replays the log after `dataFile`'s last operation (optionally up to one); returns a line for the console. */
async function integrateInto(run: Run, dataFile: string, c: OperationControls, from: number, to: number,
  opts: { includeCurrentLog: boolean; upTo?: number | null; mustReach?: { databaseId: string; lastOperation: number } | null; cap?: Bookkeeping | null }): Promise<string> {
  const bk = requireBookkeeping(dataFile);
  const sources = await defaultLogSources(run.engine, run.ctx!, { databaseId: bk.databaseId, includeCurrentLog: opts.includeCurrentLog });
  // Read without the data lock (a restore to a folder), the current log may end with a write whose commit is still
  // running, or fails and is taken back: only operations the live data file has committed are integrated.
  const cap = opts.cap && opts.cap.databaseId === bk.databaseId ? Math.max(bk.lastOperation, opts.cap.lastOperation) : undefined;
  const collected = await collectOperations({ sources, databaseId: bk.databaseId, afterOperation: bk.lastOperation, upToOperation: opts.upTo ?? undefined });
  const records = cap === undefined ? collected : collected.filter((r) => r.op <= cap);
  const reached = records.at(-1)?.op ?? bk.lastOperation;
  if (opts.upTo != null && reached < opts.upTo) {
    throw new DomainError(STATUS.FOREIGN_LOG_FILE, `Operation ${opts.upTo} is not in the log: it ends at operation ${reached}.`);
  }
  // Replacing the live file "with the log" must bring back every operation the live file holds: a log that stops
  // short (UseLog off for a while, a segment gone) would silently lose acknowledged writes.
  const must = opts.mustReach;
  if (must && opts.upTo == null && must.databaseId === bk.databaseId && reached < must.lastOperation) {
    throw new DomainError(STATUS.FOREIGN_LOG_FILE, `The log ends at operation ${reached}, but the live data file is at operation ${must.lastOperation}: ` +
      `operations ${reached + 1} to ${must.lastOperation} are in no log file, so this restore would lose them. Nothing was changed. ` +
      "Restore without the log integration (the live data file is then kept aside), or from a later backup.");
  }
  c.update({ filesDone: 0, filesTotal: records.length, bytesDone: 0, bytesTotal: records.length, currentFile: null }, true);
  const result = await integrateLog({ dataFile, records, databaseId: bk.databaseId, afterOperation: bk.lastOperation, signal: c.signal,
    onProgress: (done) => c.update({ filesDone: done, bytesDone: done, percent: from + ((to - from) * done) / Math.max(1, records.length) }) });
  for (const s of new Set(sources)) run.record.notes.push(`Log file read : ${s}`);
  return records.length === 0
    ? `No log operation to integrate: the data file is at operation ${bk.lastOperation}.`
    : `Log integrated: operations ${records[0].op} to ${result.lastOperation} (${result.applied}).`;
}

/** The places a restore to a folder never writes to, for this server (restore-target.ts). */
export function forbiddenPlaces(engine: BackupEngine, destination: string | undefined): ForbiddenPlaces {
  return { databaseDir: engine.layout.databaseDir, home: engine.opts.home, dataFile: engine.layout.dataFile, destination, appDirs: engine.opts.appDirs };
}

export async function runRestoreToFolder(engine: BackupEngine, req: RestoreToFolderRequest, operationId: string, c: OperationControls): Promise<OperationOutcome> {
  const run = new Run(engine, "restore", operationId, req.trigger, req.archivePath, "restore");
  try {
    const ctx = await run.resolve();
    c.phase("restore", 1);
    if (req.integrateLog && !req.parts.dataFile) {
      throw new DomainError(STATUS.BACKUP_ERROR, "Integrating the log needs the data file: tick it, or untick the log integration.");
    }
    const contents = await readArchiveContents(req.archivePath);
    run.record.backupNumber = contents.manifest.backupNumber;
    const share = req.integrateLog ? 80 : 98;
    const result = await restoreArchive({
      archivePath: req.archivePath, target: req.target, select: selectParts(contents.manifest, req.parts), overwrite: req.overwrite,
      forbidden: forbiddenPlaces(engine, ctx.destination),
      signal: c.signal,
      onProgress: (p) => c.update({ bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, filesDone: p.filesDone, filesTotal: p.filesTotal,
        currentFile: p.currentFile, percent: 1 + (share * p.bytesDone) / Math.max(1, p.bytesTotal) }),
    });
    run.record.dataPath = req.parts.dataFile ? path.join(result.target, "Data", "data.sqlite") : result.target;
    run.record.content = { projectFiles: null, dataFile: null, attachmentFiles: { count: result.files, bytes: result.bytes } };
    run.details.push(`Restored ${result.files} item(s), ${formatSize(result.bytes)}, to ${result.target}.`);
    if (result.replaced) run.details.push(`The folder's previous content was moved to ${result.replaced}.`);
    if (req.integrateLog) {
      c.phase("integrate", 82);
      const live = await fs.access(engine.layout.dataFile).then(() => requireBookkeeping(engine.layout.dataFile), () => null);
      run.details.push(await integrateInto(run, path.join(result.target, "Data", "data.sqlite"), c, 82, 98, { includeCurrentLog: req.includeCurrentLog, cap: live }));
    }
  } catch (err) {
    run.fail(err, c.signal, "The restore was stopped. Stopped while restoring files: nothing was left in the chosen folder. Stopped during the log " +
      "integration: the restored files are in the folder, and the data file holds the operations integrated so far (each one whole).");
  }
  c.phase("shutdown", 99);
  return run.finish();
}

/**
 * Restore in place: the archive's data file (brought forward by the log, or to a chosen operation) replaces the
 * live one while the server runs. Writes wait from the log integration to the swap, so every write acknowledged
 * before it is in the log the integration reads, and every write after it goes to the new file. The replaced file
 * with its -wal/-shm (a stale WAL beside the restored file would corrupt it), the old log and its closed segments are
 * kept in `Data/Replaced data file <time>/`. The restored file gets a new database id: a new log chain starts, and
 * the old chain's log files can never be mixed into it.
 */
export async function runRestoreInPlace(engine: BackupEngine, req: RestoreInPlaceRequest, live: LiveData, operationId: string, c: OperationControls): Promise<OperationOutcome> {
  const run = new Run(engine, "restoreInPlace", operationId, req.trigger, req.archivePath, "restore");
  const { layout } = engine;
  const work = path.join(layout.dataDir, `${RESTORE_IN_PLACE_WORK}${operationId}`);
  let release: (() => void) | null = null;
  try {
    const ctx = await run.resolve();
    c.phase("restore", 1);
    const contents = await readArchiveContents(req.archivePath);
    run.record.backupNumber = contents.manifest.backupNumber;
    if (!contents.manifest.entries.some((e) => e.path === "Data/data.sqlite")) {
      throw new DomainError(STATUS.BACKUP_ERROR, `${req.archivePath} holds no data file: choose an archive made with the data file included.`);
    }
    // Not the database id: a restore in place gives the database a new one, and its older backups stay restorable.
    if (contents.manifest.databaseName !== ctx.databaseName) {
      throw new DomainError(STATUS.BACKUP_ERROR, `${req.archivePath} is a backup of "${contents.manifest.databaseName}", not of this database ("${ctx.databaseName}").`);
    }
    const integrate = req.integrateLog || req.upToOperation != null;
    await restoreArchive({ archivePath: req.archivePath, target: work, select: (e) => e.path === "Data/data.sqlite", signal: c.signal,
      onProgress: (p) => c.update({ bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, filesDone: p.filesDone, filesTotal: p.filesTotal,
        currentFile: p.currentFile, percent: 1 + (50 * p.bytesDone) / Math.max(1, p.bytesTotal) }) });
    const restored = path.join(work, "Data", "data.sqlite");
    // From here writes wait: the log read next is then complete, and nothing changes the live file under the swap.
    release = await engine.locks.acquire("data", { signal: c.signal });
    if (integrate) {
      c.phase("integrate", 55);
      const liveBk = await fs.access(layout.dataFile).then(() => requireBookkeeping(layout.dataFile), () => null);
      run.details.push(await integrateInto(run, restored, c, 55, 90, { includeCurrentLog: true, upTo: req.upToOperation, mustReach: liveBk }));
    }
    c.signal.throwIfAborted();
    c.phase("swap", 95); // not stoppable: the swap runs to its end
    const newId = crypto.randomUUID();
    const restoredBk = setDatabaseId(restored, newId);
    const aside = path.join(layout.dataDir, `Replaced data file ${stamp(new Date())}`);
    const moved = await swapDataFile(layout, restored, aside, live);
    try {
      await live.log.restart(ctx.settings.advanced.useLog, restoredBk);
    } catch (err) {
      run.details.push(`The data file was replaced, but the new log file could not be started (${(err as Error).message}): writes are refused until the server restarts.`);
      throw err;
    }
    run.record.dataPath = layout.dataFile;
    run.details.push(`The data file ${layout.dataFile} was replaced by the one from ${req.archivePath}` +
      (req.upToOperation != null ? `, rolled back to just after operation ${req.upToOperation}.` : "."));
    run.details.push(`The replaced files (${moved.join(", ")}) are kept in ${aside}.`);
    run.details.push(`A new log chain starts after operation ${restoredBk.lastOperation} (the database has a new id): back up now to have a backup of the restored data.`);
  } catch (err) {
    run.fail(err, c.signal, "The restore was stopped before the data file was replaced: nothing changed.");
  } finally {
    release?.();
    await fs.rm(work, { recursive: true, force: true }).catch(() => undefined);
  }
  c.phase("shutdown", 99);
  return run.finish();
}

/** The archive to roll back from: this database's newest backup whose snapshot ends at or before the operation. */
export async function rollbackArchive(engine: BackupEngine, operation: number): Promise<string> {
  const ctx = await engine.resolve();
  const liveId = requireBookkeeping(engine.layout.dataFile).databaseId;
  const { listArchives } = await import("../archive/names");
  for (const a of (await listArchives(ctx.destination, ctx.databaseName)).reverse()) {
    const contents = await readArchiveContents(a.path).catch(() => null);
    const m = contents?.manifest;
    if (!m || m.databaseId !== liveId || !m.entries.some((e) => e.path === "Data/data.sqlite")) continue;
    if ((m.log?.lastOperation ?? 0) <= operation) return a.path;
  }
  throw new DomainError(STATUS.BACKUP_ERROR, `No backup of this database was taken before operation ${operation}, so the data can't be rolled back to it.`);
}

/** Verification: each archive read back against its manifest; every result is kept (VerificationStore). */
export async function runVerification(engine: BackupEngine, archives: string[], store: VerificationStore, trigger: Trigger, operationId: string, c: OperationControls): Promise<OperationOutcome> {
  const run = new Run(engine, "verify", operationId, trigger, archives.length === 1 ? archives[0] : null, "backup");
  c.phase("verify", 1);
  let failed = 0;
  try {
    for (const [i, archive] of archives.entries()) {
      c.update({ currentFile: path.basename(archive), filesDone: i, filesTotal: archives.length }, true);
      const report = await verifyArchiveFile(archive, { signal: c.signal,
        onProgress: (p) => c.update({ bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, percent: 1 + (98 * (i + p.bytesDone / Math.max(1, p.bytesTotal))) / archives.length }) })
        .catch((err: Error) => {
          if (c.signal.aborted) throw err;
          return { ok: false, problems: [err.message], entries: 0, bytes: 0 };
        });
      store.record(archive, { at: new Date().toISOString(), ok: report.ok, problems: report.problems });
      if (!report.ok) failed++;
      run.details.push(report.ok ? `${archive}: verified, ${report.entries} entries match the manifest.` : `${archive}: FAILED — ${report.problems.slice(0, 5).join("; ")}`);
    }
    if (failed) {
      run.record.status = STATUS.ARCHIVE_CHECK_FAILED;
      run.record.statusText = `${failed} of ${archives.length} archive(s) failed the check against their manifest.`;
    } else {
      run.record.statusText = archives.length === 1 ? "The archive matches its manifest." : `All ${archives.length} archives match their manifests.`;
    }
  } catch (err) {
    run.fail(err, c.signal, "The verification was stopped.");
  }
  c.phase("shutdown", 99);
  // A verification is not an operation of backupHistory.json (spec §4 lists backups, restores and log integrations).
  const outcome = await finishVerification(run);
  return outcome;
}

/** Verifications are kept in console.sqlite and told to the console; they don't write history or journal blocks. */
async function finishVerification(run: Run): Promise<OperationOutcome> {
  const r = run.record;
  r.endingDate = new Date();
  return {
    operationId: run.operationId, kind: "verify", trigger: r.trigger, backupNumber: r.backupNumber, status: r.status,
    statusText: r.statusText, partial: false, archivePath: r.archivePath, startingDate: r.startingDate.toISOString(),
    endingDate: r.endingDate.toISOString(), details: run.details,
  };
}


/**
 * The swap itself: the live data file, its -wal/-shm, the log file and closed segments go aside, the restored file
 * takes the data file's place. Each move is undone, in reverse order, if a later one fails, so the live database is
 * never left without its data file; nothing opens the file meanwhile (DataStore.releaseFile … resumeFile).
 */
async function swapDataFile(layout: BackupEngine["layout"], restored: string, aside: string, live: LiveData): Promise<string[]> {
  const undo: Array<[from: string, to: string]> = [];
  const move = async (from: string, to: string) => {
    if (await moveIfExists(from, to)) undo.push([from, to]);
  };
  await live.store.releaseFile();
  try {
    await makePrivateDir(path.join(aside, "Log segments"));
    for (const f of [layout.dataFile, `${layout.dataFile}-wal`, `${layout.dataFile}-shm`, layout.logFile]) await move(f, path.join(aside, path.basename(f)));
    const segments = await fs.readdir(layout.logSegmentsDir).catch(() => [] as string[]);
    for (const s of segments) await move(path.join(layout.logSegmentsDir, s), path.join(aside, "Log segments", s));
    await fs.rename(restored, layout.dataFile);
    await fsyncDir(layout.dataDir);
    await fsyncDir(aside).catch(() => undefined);
    const names = undo.filter(([from]) => !from.startsWith(layout.logSegmentsDir)).map(([from]) => path.basename(from));
    return segments.length ? [...names, `${segments.length} closed log segment(s)`] : names;
  } catch (err) {
    for (const [from, to] of undo.reverse()) await fs.rename(to, from).catch(() => undefined);
    throw new DomainError(STATUS.BACKUP_ERROR, `The data file could not be replaced (${(err as Error).message}); the live files were put back as they were.`);
  } finally {
    live.store.resumeFile();
  }
}


