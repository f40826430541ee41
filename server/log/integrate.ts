// Log integration (spec §9): gathers the operations after a snapshot's last one from log backups, closed segments
// and the current log, and replays them into a (restored) data file strictly in order, optionally up to a chosen one.
import Database from "better-sqlite3";
import { applyWrite } from "../data/apply-write";
import { readBookkeeping, setLastOperation } from "../data/bookkeeping";
import type { LogRecord, Write } from "../data/write-ops";
import { DomainError } from "../errors";
import { STATUS } from "../isomorphic/status";
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
