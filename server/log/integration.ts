// Log integration (docs/log-file.md#log-integration), the one way the log is replayed: the sources (this database's
// log backups, closed segments and current log), the operations gathered from them after the data file's last one,
// the checks (up to a chosen operation; never short of the live file when it replaces it; only what the live file
// committed), and the replay itself into a restored copy, strictly in order, with progress and Stop. The log
// integration task, both restores, the automatic restore at start and off-site recovery all go through
// integrateLogInto; the replay at start applies the operations its log file holds with integrateLog.
import Database from "better-sqlite3";
import fs from "node:fs/promises";
import path from "node:path";
import { applyWrite } from "../data/apply-write";
import { bookkeepingOf, readBookkeeping, setLastOperation, type Bookkeeping } from "../data/bookkeeping";
import type { DatabaseLayout } from "../database/layout";
import { openNoFollow } from "../fs/safe-open";
import type { LogRecord, Write } from "../data/write-ops";
import { DomainError } from "../errors";
import { STATUS } from "../isomorphic/status";
import { listLogBackups } from "../archive/names";
import { scanLog } from "./read-log";

export interface CollectOptions {
  /** `.4BL` log backups, closed segments and the current log file, in any order; they may overlap. */
  sources: string[];
  databaseId: string;
  /** The data file's last operation: only later ones are collected. */
  afterOperation: number;
  /** Stop after this operation; absent: everything the sources hold. */
  upToOperation?: number;
}

/**
 * The records with afterOperation < op ≤ upToOperation, in order, checked to form a complete chain from
 * afterOperation + 1: a missing operation is refused (1416) with the missing numbers, since replaying past a hole
 * would give a data file that never existed. An operation found in several sources must be the same in each.
 * Each source is checked as a whole (checksums, numbering, database id); a torn last line is ignored, as the
 * current log may be read while the server appends to it.
 */
export async function collectOperations(opts: CollectOptions): Promise<LogRecord[]> {
  const { databaseId, afterOperation: after, upToOperation: upTo } = opts;
  if (!Number.isSafeInteger(after) || after < 0) throw new Error(`afterOperation must be a whole number ≥ 0, not ${after}`);
  if (upTo !== undefined && (!Number.isSafeInteger(upTo) || upTo < after)) {
    throw new DomainError(STATUS.BACKUP_ERROR, `The log integration can't stop at operation ${upTo}: the data file is already at operation ${after}. ` +
      "Choose a later operation.");
  }
  const found = new Map<number, { record: LogRecord; source: string }>();
  for (const source of new Set(opts.sources)) {
    await scanLog(source, { expectDatabaseId: databaseId, allowTornTail: true }, (record) => {
      if (record.op <= after || (upTo !== undefined && record.op > upTo)) return;
      const seen = found.get(record.op);
      if (!seen) found.set(record.op, { record, source });
      else if (seen.record.checksum !== record.checksum) {
        throw new DomainError(STATUS.FOREIGN_LOG_FILE, `Operation ${record.op} is not the same in ${seen.source} and in ${source}: ` +
          "these log files don't describe the same history, so the log can't be integrated.");
      }
    });
  }
  let end = upTo ?? after;
  if (upTo === undefined) for (const op of found.keys()) end = Math.max(end, op);
  const records: LogRecord[] = [];
  const missing: Array<[number, number]> = [];
  for (let op = after + 1; op <= end; op++) {
    const hit = found.get(op);
    if (hit) records.push(hit.record);
    else if (missing.length && missing[missing.length - 1][1] === op - 1) missing[missing.length - 1][1] = op;
    else missing.push([op, op]);
  }
  if (missing.length) {
    const shown = missing.slice(0, 5).map(([a, b]) => (a === b ? `${a}` : `${a} to ${b}`)).join(", ");
    const more = missing.length > 5 ? ` and ${missing.length - 5} more ranges` : "";
    throw new DomainError(STATUS.FOREIGN_LOG_FILE, `The log can't be integrated after operation ${after}: operations ${shown}${more} are in none ` +
      `of the log files read (${[...new Set(opts.sources)].join(", ") || "none given"}), and the operations after them can't be replayed without them.`);
  }
  return records;
}

export interface IntegrateOptions {
  /** The data file to bring forward: a restored copy, never the live one (the data API writes to that). */
  dataFile: string;
  /** Consecutive records, as collectOperations returns them. */
  records: LogRecord[];
  /** The database the data file must belong to (1416 otherwise); absent: not checked. */
  databaseId?: string;
  /** The data file's last operation the records follow; absent: the one before the first record. */
  afterOperation?: number;
  /** Called after every GROUP records (and the last ones) with the count applied so far. */
  onProgress?: (applied: number, total: number) => void;
  /** Stops between two groups of records: the data file is then whole, at the last operation integrated. */
  signal?: AbortSignal;
}

/**
 * Records committed together, each in its own savepoint, between two yields to the event loop. better-sqlite3 is
 * synchronous, and a server running an integration must go on answering (and hear a Stop). A commit per record
 * costs a few flushes (a restored snapshot is in rollback-journal mode): 1.7 ms each here, minutes for a busy
 * day's log; 100 per commit keeps every record atomic and the file always at a whole operation.
 */
const GROUP = 100;

/**
 * Replays the records into the data file, each record's write and the bookkeeping's last operation together
 * (one savepoint, committed with up to GROUP-1 others), so that the file is at a whole operation whatever stops
 * it. Refuses (1416), changing nothing, a data file of another database or not at the operation the records follow.
 */
export async function integrateLog(opts: IntegrateOptions): Promise<{ applied: number; lastOperation: number }> {
  const { dataFile, records, signal } = opts;
  records.forEach((r, i) => {
    if (i > 0 && r.op !== records[i - 1].op + 1) throw new Error(`The records to integrate must follow each other: ${r.op} comes after ${records[i - 1].op}.`);
  });
  const db = new Database(dataFile, { fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    // Each commit is atomic either way; in WAL mode NORMAL spares a flush per commit (the file is flushed when the
    // connection closes): a power loss may lose the last groups, never leave the file between two operations.
    db.pragma("synchronous = NORMAL");
    const b = readBookkeeping(db);
    if (!b) throw new DomainError(STATUS.FOREIGN_LOG_FILE, `${dataFile} has no Strongbox bookkeeping: it is not a data file the log can be integrated into.`);
    if (opts.databaseId !== undefined && b.databaseId !== opts.databaseId) {
      throw new DomainError(STATUS.FOREIGN_LOG_FILE, `${dataFile} belongs to another database (its id is ${b.databaseId}, the log's is ${opts.databaseId}); ` +
        "nothing was integrated.");
    }
    const after = opts.afterOperation ?? (records.length ? records[0].op - 1 : b.lastOperation);
    if (b.lastOperation !== after || (records.length && records[0].op !== after + 1)) {
      throw new DomainError(STATUS.FOREIGN_LOG_FILE, `${dataFile} is at operation ${b.lastOperation}, but the operations to integrate ` +
        `${records.length ? `start at ${records[0].op}` : `follow operation ${after}`}; nothing was integrated.`);
    }
    // Called inside the group's transaction, better-sqlite3 runs each record in a savepoint: a record that fails
    // is rolled back alone and the records before it are committed.
    const replayOne = db.transaction((record: LogRecord) => {
      const { op, time: _time, user: _user, checksum: _checksum, ...write } = record;
      applyWrite(db, write as Write);
      setLastOperation(db, op);
    });
    let applied = 0;
    let failure: { op: number; err: unknown } | null = null;
    const replayGroup = db.transaction((group: LogRecord[]) => {
      for (const record of group) {
        try {
          replayOne(record);
        } catch (err) {
          failure = { op: record.op, err };
          return;
        }
        applied++;
      }
    });
    for (let i = 0; i < records.length; i += GROUP) {
      if (signal?.aborted) {
        throw new DomainError(STATUS.CANCELED_BY_USER, `The log integration was stopped: ${dataFile} holds the operations up to ${after + applied}.`);
      }
      const before = applied;
      try {
        replayGroup(records.slice(i, i + GROUP));
      } catch (err) {
        // The commit itself failed (disk full, I/O): the whole group was rolled back.
        applied = before;
        throw new DomainError(STATUS.BACKUP_ERROR, `Operations ${records[i].op} and after could not be written into ${dataFile} ` +
          `(${(err as Error).message}); the data file holds the operations up to ${after + applied}.`, { cause: err });
      }
      if (failure) {
        const { op, err } = failure as { op: number; err: unknown };
        throw new DomainError(STATUS.BACKUP_ERROR, `Operation ${op} could not be replayed into ${dataFile} (${(err as Error).message}); ` +
          `the data file holds the operations up to ${op - 1}.`, { cause: err });
      }
      opts.onProgress?.(applied, records.length);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { applied, lastOperation: after + applied };
  } finally {
    db.close();
  }
}

/** Where a database's log files are: the log backups beside its archives, the closed segments and the current log. */
export interface LogPlaces {
  destination: string;
  databaseName: string;
  logSegmentsDir: string;
  logFile: string;
}

export function logPlaces(layout: Pick<DatabaseLayout, "logSegmentsDir" | "logFile">, settings: { destination: string; databaseName: string }): LogPlaces {
  return { destination: settings.destination, databaseName: settings.databaseName, logSegmentsDir: layout.logSegmentsDir, logFile: layout.logFile };
}

/**
 * The log files an integration reads by default, in no particular order (collectOperations orders them): this
 * database's log backups, closed segments and current log — only those of the given database id, since a restore
 * in place starts a new log chain under a new id and the old chain's files stay beside the new ones.
 */
export async function defaultLogSources(places: LogPlaces, opts: { databaseId?: string; includeCurrentLog?: boolean } = {}): Promise<string[]> {
  const backups = (await listLogBackups(places.destination, places.databaseName)).map((l) => l.path);
  const segments = (await fs.readdir(places.logSegmentsDir).catch(() => [] as string[]))
    .filter((n) => n.endsWith(".journal"))
    .map((n) => path.join(places.logSegmentsDir, n));
  const current = opts.includeCurrentLog === false ? [] : await fs.access(places.logFile).then(() => [places.logFile], () => []);
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

export interface IntegrationRequest {
  /** The data file to bring forward: a restored copy, never the live one (the data API writes to that). */
  dataFile: string;
  /** Where this database's log files are, for the default sources. */
  places: LogPlaces;
  /** The log files to read instead of the default ones. */
  sources?: string[];
  /** With the default sources: also the current log file (default yes). */
  includeCurrentLog?: boolean;
  /** Stop after this operation (a rollback to a point in time); absent: everything logged. */
  upTo?: number | null;
  /**
   * The live data file's bookkeeping, when the result replaces it "with the log": a log that stops short of it
   * (UseLog off for a while, a segment gone) would silently lose acknowledged writes, so it is refused.
   */
  mustReach?: Bookkeeping | null;
  /**
   * The live data file's bookkeeping, when the log is read without the data lock (a restore to a folder): the
   * current log may end with a write whose commit is still running, or fails and is taken back, so only the
   * operations the live file has committed are integrated.
   */
  cap?: Bookkeeping | null;
  signal?: AbortSignal;
  /** After every group of operations applied (and once with 0 before the first). */
  onProgress?: (applied: number, total: number) => void;
}

export interface IntegrationResult {
  /** The files read. */
  sources: string[];
  /** The data file's bookkeeping before the integration. */
  before: Bookkeeping;
  /** The first operation integrated, or null when there was nothing to integrate. */
  firstOperation: number | null;
  applied: number;
  lastOperation: number;
}

/** Brings `dataFile` forward with the log, after checking that the result is the one asked for (see the request). */
export async function integrateLogInto(req: IntegrationRequest): Promise<IntegrationResult> {
  const { dataFile } = req;
  await fs.access(dataFile).catch(() => {
    throw new DomainError(STATUS.BACKUP_ERROR, `The data file ${dataFile} does not exist.`);
  });
  const before = bookkeepingOf(dataFile);
  if (!before) throw new DomainError(STATUS.FOREIGN_LOG_FILE, `${dataFile} has no Strongbox bookkeeping, so no log can be integrated into it.`);
  const sources = req.sources ?? (await defaultLogSources(req.places, { databaseId: before.databaseId, includeCurrentLog: req.includeCurrentLog }));
  const collected = await collectOperations({ sources, databaseId: before.databaseId, afterOperation: before.lastOperation, upToOperation: req.upTo ?? undefined });
  const cap = req.cap && req.cap.databaseId === before.databaseId ? Math.max(before.lastOperation, req.cap.lastOperation) : undefined;
  const records = cap === undefined ? collected : collected.filter((r) => r.op <= cap);
  const reached = records.at(-1)?.op ?? before.lastOperation;
  if (req.upTo != null && reached < req.upTo) {
    throw new DomainError(STATUS.FOREIGN_LOG_FILE, `Operation ${req.upTo} is not in the log: it ends at operation ${reached}.`);
  }
  const must = req.mustReach;
  if (must && req.upTo == null && must.databaseId === before.databaseId && reached < must.lastOperation) {
    throw new DomainError(STATUS.FOREIGN_LOG_FILE, `The log ends at operation ${reached}, but the live data file is at operation ${must.lastOperation}: ` +
      `operations ${reached + 1} to ${must.lastOperation} are in no log file, so this restore would lose them. Nothing was changed. ` +
      "Restore without the log integration (the live data file is then kept aside), or from a later backup.");
  }
  req.onProgress?.(0, records.length);
  const result = await integrateLog({ dataFile, records, databaseId: before.databaseId, afterOperation: before.lastOperation, signal: req.signal,
    onProgress: req.onProgress });
  return { sources, before, firstOperation: records[0]?.op ?? null, applied: result.applied, lastOperation: result.lastOperation };
}
