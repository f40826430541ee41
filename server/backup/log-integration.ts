// Log integration as an engine operation (spec §9, issue 5): replays, into a data file restored from a snapshot,
// the operations logged after the snapshot's last one — from the log backups (.4BL), the closed log segments and
// the current log file — strictly in order, optionally up to a chosen operation. Recorded in the history
// (`logIntegration`) and the journal (`*** Log Integration`) like every operation.
import Database from "better-sqlite3";
import fs from "node:fs/promises";
import path from "node:path";
import { readBookkeeping } from "../data/bookkeeping";
import { openNoFollow } from "../fs/safe-open";
import { toHistoryEntry } from "../history/backup-history";
import { formatBlock } from "../journal/backup-journal";
import { collectOperations, integrateLog } from "../log/integrate";
import type { OperationRecord, Trigger } from "../operation";
import { DomainError, isDomainError } from "../errors";
import { STATUS } from "../isomorphic/status";
import { listLogBackups } from "../archive/names";
import type { BackupEngine, ResolvedContext } from "./backup-engine";
import type { OperationOutcome, OperationProgress } from "../operations/progress";
import type { Phase } from "../isomorphic/phases";
import { stoppedError } from "./stop-reason";

export interface LogIntegrationRequest {
  /** The data file to bring forward (a restored copy; never the live data file, which the data API owns). */
  dataFile: string;
  trigger: Trigger;
  /** Stop after this operation (rollback to a point in time); null or absent: everything logged. */
  upToOperation?: number | null;
  /** Log files to read; absent: this database's log backups, closed segments and current log file. */
  sources?: string[];
  /** The archive the data file came from, for the history entry (0 when unknown). */
  backupNumber?: number;
  /** The archive's path, for the journal and the history. */
  archivePath?: string | null;
}

export interface OperationControls {
  signal: AbortSignal;
  update: (patch: Partial<OperationProgress>, immediate?: boolean) => void;
  phase: (phase: Phase, percent: number) => void;
}

/**
 * The log files an integration reads by default, in no particular order (collectOperations orders them): this
 * database's log backups, closed segments and current log — only those of the given database id, since a restore
 * in place starts a new log chain under a new id and the old chain's files stay beside the new ones.
 */
export async function defaultLogSources(engine: BackupEngine, ctx: ResolvedContext, opts: { databaseId?: string; includeCurrentLog?: boolean } = {}): Promise<string[]> {
  const backups = (await listLogBackups(ctx.destination, ctx.databaseName)).map((l) => l.path);
  const segments = (await fs.readdir(engine.layout.logSegmentsDir).catch(() => [] as string[]))
    .filter((n) => n.endsWith(".journal"))
    .map((n) => path.join(engine.layout.logSegmentsDir, n));
  const current = opts.includeCurrentLog === false ? [] : await fs.access(engine.layout.logFile).then(() => [engine.layout.logFile], () => []);
  const all = [...backups, ...segments, ...current];
  if (!opts.databaseId) return all;
  const ids = await Promise.all(all.map(logDatabaseId));
  return all.filter((_, i) => ids[i] === opts.databaseId);
}

/** The database id in a log file's header line, or null when it can't be read. */
export async function logDatabaseId(file: string): Promise<string | null> {
  let fh;
  try {
    fh = await openNoFollow(file, "read");
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const line = buf.subarray(0, bytesRead).toString("utf8").split("\n")[0];
    const header = JSON.parse(line) as { type?: string; databaseId?: unknown };
    return header.type === "header" && typeof header.databaseId === "string" ? header.databaseId : null;
  } catch {
    return null;
  } finally {
    await fh?.close();
  }
}

export async function runLogIntegration(engine: BackupEngine, req: LogIntegrationRequest, operationId: string, c: OperationControls): Promise<OperationOutcome> {
  const startingDate = new Date();
  const record: OperationRecord = {
    operation: "logIntegration", backupNumber: req.backupNumber ?? 0, trigger: req.trigger, archivePath: req.archivePath ?? null,
    logBackupPath: null, structurePath: engine.layout.projectDir, dataPath: req.dataFile,
    content: { projectFiles: null, dataFile: null, attachmentFiles: null }, attachments: [], files: [], archive: null,
    scheduledDate: null, startingDate, endingDate: startingDate, status: 0, statusText: "OK", partial: false, errors: [], notes: [],
  };
  let ctx: ResolvedContext | null = null;
  let verbose = true;
  try {
    ctx = await engine.resolve();
    verbose = ctx.settings.advanced.backupJournalVerboseMode;
    if (path.resolve(req.dataFile) === engine.layout.dataFile) {
      throw new DomainError(STATUS.BACKUP_ERROR, "The log can't be integrated into the live data file this way: restore a backup to a folder, then integrate into the restored copy.");
    }
    const target = await readTarget(req.dataFile);
    const sources = req.sources ?? (await defaultLogSources(engine, ctx, { databaseId: target.databaseId }));
    c.phase("integrate", 5);
    const records = await collectOperations({ sources, databaseId: target.databaseId, afterOperation: target.lastOperation,
      upToOperation: req.upToOperation ?? undefined });
    const last = records.at(-1)?.op ?? target.lastOperation;
    if (req.upToOperation != null && last < req.upToOperation) {
      throw new DomainError(STATUS.FOREIGN_LOG_FILE, `Operation ${req.upToOperation} is not in the log: it ends at operation ${last}.`);
    }
    record.logBackupPath = sources.length === 1 ? sources[0] : null;
    if (verbose) for (const s of sources) record.notes.push(`Log file read : ${s}`);
    c.update({ bytesTotal: records.length, filesTotal: records.length }, true);
    const result = await integrateLog({
      dataFile: req.dataFile, records, signal: c.signal, databaseId: target.databaseId, afterOperation: target.lastOperation,
      onProgress: (done: number) => c.update({ filesDone: done, bytesDone: done, percent: 5 + (90 * done) / Math.max(1, records.length) }),
    });
    record.notes.push(records.length === 0
      ? `Nothing to integrate: the data file is already at operation ${target.lastOperation}.`
      : `Operations ${records[0].op} to ${result.lastOperation} integrated into ${req.dataFile} (${result.applied} operations).`);
  } catch (err) {
    const e = c.signal.aborted ? stoppedError(c.signal, "The log integration was stopped; the data file is left at the last operation integrated.")
      : isDomainError(err) ? err
      : new DomainError(STATUS.BACKUP_ERROR, `The log integration failed: ${(err as Error).message}`);
    record.status = e.status ?? STATUS.BACKUP_ERROR;
    record.statusText = e.message;
    record.errors.push({ code: e.status ?? STATUS.BACKUP_ERROR, text: e.message });
  }
  c.phase("shutdown", record.status === 0 ? 100 : 99);
  record.endingDate = new Date();
  if (ctx) {
    await engine.history(ctx).append(toHistoryEntry(record), { oldestKeptNumber: null })
      .catch((err: Error) => record.notes.push(`Warning: backupHistory.json could not be written: ${err.message}`));
  }
  await engine.journal.append(formatBlock(record, { verbose }))
    .catch((err: Error) => console.error(`[strongbox] the backup journal could not be written: ${err.message}`));
  return {
    operationId, kind: "logIntegration", trigger: req.trigger, backupNumber: record.backupNumber, status: record.status,
    statusText: record.statusText, partial: false, archivePath: null,
    startingDate: record.startingDate.toISOString(), endingDate: record.endingDate.toISOString(),
  };
}

/** The target's database id and last operation, from its bookkeeping table (a data file Strongbox never saw has none). */
async function readTarget(dataFile: string): Promise<{ databaseId: string; lastOperation: number }> {
  await fs.access(dataFile).catch(() => {
    throw new DomainError(STATUS.BACKUP_ERROR, `The data file ${dataFile} does not exist.`);
  });
  const db = new Database(dataFile, { readonly: true, fileMustExist: true });
  try {
    const b = readBookkeeping(db);
    if (!b) throw new DomainError(STATUS.FOREIGN_LOG_FILE, `${dataFile} has no Strongbox bookkeeping: it is not a data file of this database.`);
    return b;
  } finally {
    db.close();
  }
}
