// Group commit of data API writes: the writes that arrive while one group is being flushed to the log form the next
// group, which is applied in ONE SQLite transaction and logged with ONE append and ONE fdatasync — as databases
// commit their write-ahead log. Throughput then grows with the number of writers instead of being one flush per
// write, and nothing of the guarantees changes:
// - order and numbering: writes are applied in arrival order and numbered without gaps, a refused write takes no
//   number (it is rolled back to its own savepoint; the others of its group go on);
// - nothing is acknowledged before it is on disk: every write of a group is acknowledged only once the group's log
//   records are flushed AND the data file's transaction has committed;
// - all or none: if the group's append or flush fails, the transaction is rolled back and none of its writes is
//   acknowledged (each gets the error); if the data file can't commit after the append, the group's records are
//   taken back from the log before anyone hears of it, so that a restart replays nothing that was refused.
// A crash between the flush and the commit leaves the whole group in the log and not in the data file: the next
// start replays it (never acknowledged, but logged — what a write-ahead log is for), exactly as for a single write.
import type Database from "better-sqlite3";
import { applyWrite, refusal } from "./apply-write";
import { readLastOperation, setLastOperation } from "./bookkeeping";
import type { UnsignedLogRecord, Write } from "./write-ops";

/** The log file as the write path needs it (implemented by server/log). */
export interface WriteLog {
  /**
   * Appends records numbered one after the other from the last logged operation + 1 with one flush, resolving once
   * all are on disk; all or none (a failure leaves none of them in the log).
   */
  appendGroup(records: UnsignedLogRecord[]): Promise<void>;
  /** Takes back the last group appended, from its first operation `firstOp`, when the data file could not commit it. */
  takeBack(firstOp: number): Promise<void>;
}

export interface CommittedWrite {
  operation: number;
  applied: Write;
}

interface Pending {
  write: Write;
  user: string | null;
  resolve: (r: CommittedWrite) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions {
  /** The write connection (opened on first use; throws when the data file can't be opened). */
  db: () => Database.Database;
  /** null when the log file is off: operation numbers still go on, and a group is one transaction. */
  log: WriteLog | null;
  now: () => Date;
  /** Throws when the store is closed: writes still queued then are refused, changing nothing. */
  checkOpen: () => void;
  /** At most this many writes per group (a group is one transaction and one append held in memory). */
  maxGroup?: number;
}

/** The default bound on a group: large enough that 20–100 writers always fit in one, small enough to stay brief. */
export const MAX_GROUP = 256;

export class GroupCommit {
  private readonly queue: Pending[] = [];
  private running: Promise<void> | null = null;
  /** Groups committed and the writes they held, since start (for tests and the bench: flushes vs writes). */
  readonly stats = { groups: 0, writes: 0 };

  constructor(private readonly opts: GroupCommitOptions) {}

  /**
   * Queues a write, in call order, and resolves once it is applied, committed and its log record is on disk.
   * The caller holds its place under the data write lock until then, so a backup that takes the lock waits for it.
   */
  submit(write: Write, user: string | null): Promise<CommittedWrite> {
    return new Promise<CommittedWrite>((resolve, reject) => {
      this.queue.push({ write, user, resolve, reject });
      // Started in a microtask: writes submitted in the same turn of the event loop join the first group.
      this.running ??= Promise.resolve().then(() => this.drain());
    });
  }

  /** Resolves once no group is being committed and none is queued. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, this.opts.maxGroup ?? MAX_GROUP);
        try {
          await this.commitGroup(group);
        } catch (err) {
          // commitGroup settles every write itself; this is a last resort so that no caller waits for ever.
          for (const p of group) p.reject(err);
        }
      }
    } finally {
      this.running = null;
    }
  }

  /** Applies, logs and commits one group; settles every write of it (a promise settles once: later calls do nothing). */
  private async commitGroup(group: Pending[]): Promise<void> {
    let db: Database.Database;
    try {
      this.opts.checkOpen();
      db = this.opts.db();
      await beginImmediate(db);
    } catch (err) {
      for (const p of group) p.reject(err);
      return;
    }
    const done: Array<{ p: Pending; record: UnsignedLogRecord; applied: Write }> = [];
    let op = readLastOperation(db);
    for (let i = 0; i < group.length; i++) {
      const p = group[i]!;
      db.exec("SAVEPOINT strongbox_write");
      try {
        const applied = applyWrite(db, p.write);
        db.exec("RELEASE strongbox_write");
        op++;
        done.push({ p, record: { op, time: this.opts.now().toISOString(), user: p.user, ...applied }, applied });
      } catch (err) {
        if (!db.inTransaction) {
          // SQLite rolled the whole transaction back on its own (I/O error, disk full, out of memory): the group fails.
          for (const q of [...done.map((d) => d.p), ...group.slice(i)]) q.reject(err);
          return;
        }
        // Only this write is refused: undone to its savepoint, it takes no number; the group goes on.
        db.exec("ROLLBACK TO strongbox_write");
        db.exec("RELEASE strongbox_write");
        p.reject(err);
      }
    }
    if (done.length === 0) {
      db.exec("ROLLBACK");
      return;
    }
    const first = done[0]!.record.op;
    try {
      setLastOperation(db, op);
      // The records are on disk before the data file commits: a crash in between leaves operations in the log that
      // the data file lacks, which the start replays; never a committed write the log does not hold.
      await this.opts.log?.appendGroup(done.map((d) => d.record));
    } catch (err) {
      if (db.inTransaction) db.exec("ROLLBACK");
      for (const d of done) d.p.reject(err);
      return;
    }
    try {
      db.exec("COMMIT");
    } catch (err) {
      if (db.inTransaction) db.exec("ROLLBACK");
      if (this.opts.log) {
        try {
          await this.opts.log.takeBack(first);
        } catch (dropErr) {
          const failure = new Error(`The write could not be committed (${(err as Error).message}), and its log records ${first} to ${op} could not be taken back ` +
            `(${(dropErr as Error).message}): the log file holds operations the data file lacks, which the next start will try to replay.`, { cause: err });
          for (const d of done) d.p.reject(failure);
          return;
        }
      }
      if (done.length === 1) {
        // A deferred foreign key is checked only now: that is the client's write refused, not a server failure.
        done[0]!.p.reject(refusal(err, "The write"));
        return;
      }
      // Which write made the commit fail is not known (a deferred foreign key is checked for the whole transaction):
      // the group is committed again one write at a time, in order, so that only the offending one is refused.
      for (const d of done) await this.commitGroup([d.p]);
      return;
    }
    this.stats.groups++;
    this.stats.writes += done.length;
    for (const d of done) d.p.resolve({ operation: d.record.op, applied: d.applied });
  }
}

/**
 * BEGIN IMMEDIATE without blocking the event loop: another program holding the data file's write lock is waited for
 * in short sleeps (up to 5 s, then SQLite's own busy error), rather than in SQLite's busy handler, which would
 * freeze the server's progress, streams and Stop meanwhile.
 */
async function beginImmediate(db: Database.Database, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    try {
      db.exec("BEGIN IMMEDIATE");
      return;
    } catch (err) {
      const busy = (err as { code?: string }).code?.startsWith("SQLITE_BUSY");
      if (!busy || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
