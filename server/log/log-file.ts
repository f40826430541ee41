// The log file `Data/data.journal` as the server writes it (docs/log-file.md): every data API write appended in commit
// order with a gapless operation number and flushed before it is acknowledged; closed at each backup's snapshot
// into a segment in `Logs/Log segments/` that waits there until a log backup has saved it.
import fs from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import type { LogHeader, LogRecord } from "../data/write-ops";
import { fsyncDir, writeFileAtomic } from "../fs/atomic-write";
import { isUnsafeFileError, makePrivateDir, openNoFollow } from "../fs/safe-open";
import type { WriteLog } from "../data/data-store";
import { DomainError } from "../errors";
import { STATUS } from "../isomorphic/status";
import { formatHeader, formatRecord, LOG_FORMAT, readLog, type UnsignedLogRecord } from "./read-log";


/** A closed part of the log: a whole log file (header and records) holding operations first…last. */
export interface ClosedSegment { path: string; firstOperation: number; lastOperation: number }

export const segmentName = (first: number, last: number) => `log[${first}-${last}].journal`;
const SEGMENT_RE = /^log\[(\d+)-(\d+)\]\.journal$/;

/** The closed segments waiting in `segmentsDir`, by first operation (from their names; the content is read when saved). */
export async function listClosedSegments(segmentsDir: string): Promise<ClosedSegment[]> {
  let names: string[];
  try {
    names = await fs.readdir(segmentsDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new DomainError(STATUS.LOG_BACKUP_ERROR, `The log segments folder ${segmentsDir} can't be read (${(err as NodeJS.ErrnoException).code}).`);
  }
  const found: ClosedSegment[] = [];
  for (const name of names) {
    const m = SEGMENT_RE.exec(name);
    if (m) found.push({ path: path.join(segmentsDir, name), firstOperation: Number(m[1]), lastOperation: Number(m[2]) });
  }
  return found.sort((a, b) => a.firstOperation - b.firstOperation);
}

export interface OpenLogOptions {
  logFile: string;
  segmentsDir: string;
  /** The data file's bookkeeping: the database's id and the last operation it holds. */
  databaseId: string;
  lastOperation: number;
  now?: () => Date;
}

export interface OpenedLog {
  log: OperationLog;
  /** Operations in the log but not in the data file (logged, then a crash before the data file's commit): replay them, in order. */
  pending: LogRecord[];
  /** What open repaired or found worth telling (a torn last line cut off, a new log started…). */
  notes: string[];
}

export class OperationLog implements WriteLog {
  /** Appends, drops, rotations and close run one after the other, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Set when the file may no longer match what this object believes (a failed flush or truncate): every call refuses. */
  private broken: DomainError | null = null;
  private closed = false;

  private constructor(
    private readonly opts: Required<Pick<OpenLogOptions, "logFile" | "segmentsDir" | "databaseId" | "now">>,
    private fh: FileHandle | null,
    private header: LogHeader,
    /** Bytes of the file: where the next record goes. */
    private size: number,
    private last: number,
    /** Records in the current file. */
    private count: number,
    /** Where the last record's line starts, for dropLast. */
    private lastRecordOffset: number | null,
  ) {}

  /** The last group appended to the current file (its first operation and where its first line starts), for takeBack. */
  private lastGroup: { firstOp: number; offset: number; count: number } | null = null;

  /**
   * Opens the log file, or creates it (first operation = the data file's last + 1). How the log is matched against
   * the data file's last operation L — the log holding F…E, closed segments ending at S:
   * - F-1 ≤ L ≤ E: the normal case; records after L are `pending` (flushed to the log, but a crash came before
   *   the data file's commit — they were never acknowledged, and replaying them is what a write-ahead log is for).
   *   A torn last line (a crash mid-append) is cut off, with a note.
   * - No log file, and L = 0 or S = L: a new log starts after L. This is also what a crash between closing a
   *   segment and creating its successor leaves, with nothing lost.
   * - No log file otherwise (or one without any record that stops before L: writes made while UseLog was off):
   *   a new log starts after L, with a note — the operations after S (or all of them) up to L are only in the
   *   data file. Not refused: there is nothing else to use, the data file loses nothing, and an integration that
   *   would need those operations says which are missing. A full backup is a new start.
   * - E < L (the log ends before the data file): refused with 1416. The log is an older copy, or the data file a
   *   newer one; appending after E would silently leave E+1…L in no log at all. Moving the file aside leads to
   *   the case above, with its note.
   * - F-1 > L, or no log file and S > L (the data file is older than the log, copied back by hand): refused with
   *   1416. Appending would give new writes the numbers L+1… that the log already uses for other operations, and
   *   replaying on our own would undo whatever the person meant by putting an older data file back.
   * Another database's log: 1416. An unreadable or damaged one (other than a torn last line): 1403. A refused log
   * is left exactly as it was.
   */
  static async open(options: OpenLogOptions): Promise<OpenedLog> {
    const opts = { ...options, now: options.now ?? (() => new Date()) };
    const { logFile, segmentsDir, databaseId, lastOperation: L } = opts;
    if (!Number.isSafeInteger(L) || L < 0) throw new Error(`lastOperation must be a whole number ≥ 0, not ${L}`);
    const segments = await listClosedSegments(segmentsDir);
    const S = segments.at(-1)?.lastOperation ?? null;
    const notes: string[] = [];
    await removeStaleTemps(logFile, segmentsDir);

    // lstat: a link under the log's name exists (and readLog refuses it, 1403) rather than counting as no log.
    const exists = await fs.lstat(logFile).then(() => true, (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return false;
      throw new DomainError(STATUS.NO_LOG_FILE, `The log file ${logFile} can't be reached (${err.code}).`);
    });
    const contents = exists ? await readLog(logFile, { allowTornTail: true }) : null;
    if (contents && contents.header.databaseId !== databaseId) {
      throw new DomainError(STATUS.FOREIGN_LOG_FILE, `The log file ${logFile} belongs to another database: its id is ${contents.header.databaseId}, ` +
        `the data file's is ${databaseId}. If this data file is the right one, move that log file out of the Data folder ` +
        `(and ${segmentsDir} too, if its segments are that database's): a new log then starts after operation ${L}.`);
    }
    // A log without any record that stops before L holds nothing that contradicts the data file: it counts as no
    // log (what writes made while Advanced/UseLog was off leave behind).
    const empty = contents !== null && contents.count === 0 && contents.header.firstOperation - 1 < L;
    if (!contents || empty) {
      if (S !== null && S > L) throw dataOlderThanLog(logFile, segmentsDir, L, S + 1, "the closed log segments go up to operation " + S);
      if (L > 0 && S !== L) {
        const from = empty ? contents.header.firstOperation : S === null ? null : S + 1;
        notes.push((empty
          ? `The log file ${logFile} held no operation and started at operation ${contents.header.firstOperation}, but the data file is at ${L} (writes made while the log was off?); `
          : `The log file ${logFile} was missing; `) +
          `a new one starts after operation ${L}. ${from === null ? `Operations up to ${L} that are not in a log backup` : `Operations ${from} to ${L}`} ` +
          "are only in the data file, so a log integration into an older backup can't go past them: make a full backup to have a new starting point.");
      }
      const header = newHeader(databaseId, L + 1, opts.now());
      await createLogFile(logFile, header);
      const fh = await openLogFile(logFile);
      const size = (await fh.stat()).size;
      return { log: new OperationLog(opts, fh, header, size, L, 0, null), pending: [], notes };
    }

    const { header } = contents;
    const F = header.firstOperation;
    const E = contents.lastOperation;
    if (E < L) {
      throw new DomainError(STATUS.FOREIGN_LOG_FILE, `The log file ${logFile} ends at operation ${E} but the data file's last operation is ${L}: ` +
        `operations ${E + 1} to ${L} are in no log (is the log an older copy, or the data file a newer one?). If the data file is the right ` +
        `one, move the log file out of the Data folder: a new log then starts after operation ${L}; make a full backup right after.`);
    }
    if (F - 1 > L) throw dataOlderThanLog(logFile, segmentsDir, L, F, `the log file starts at operation ${F}`);
    if (S !== null && S !== F - 1) {
      notes.push(`The closed log segments in ${segmentsDir} end at operation ${S} but the log file starts at operation ${F}: ` +
        "the next log backup will report the mismatch.");
    }

    const fh = await openLogFile(logFile);
    try {
      if (contents.tornTail) {
        await fh.truncate(contents.validLength);
        await fh.datasync();
        notes.push(`The last line of the log file ${logFile} (line ${contents.tornLine}) was incomplete — a write a crash interrupted, ` +
          "never acknowledged — and has been removed.");
      }
    } catch (err) {
      await fh.close();
      throw new DomainError(STATUS.NO_LOG_FILE, `The incomplete last line of the log file ${logFile} could not be removed (${(err as NodeJS.ErrnoException).code}).`);
    }
    const pending = contents.records.filter((r) => r.op > L);
    return { log: new OperationLog(opts, fh, header, contents.validLength, E, contents.count, contents.lastRecordOffset), pending, notes };
  }

  /** The last operation logged (pending ones included). */
  get lastOperation(): number {
    return this.last;
  }

  /** The number the current file's first record has (or will have). */
  get firstOperation(): number {
    return this.header.firstOperation;
  }

  /** Appends one record and resolves once it is on disk: `appendGroup` with one record. */
  append(record: UnsignedLogRecord): Promise<void> {
    return this.appendGroup([record]);
  }

  /**
   * Appends records numbered one after the other from the last one + 1, in one write and ONE flush (fdatasync), and
   * resolves once all of them are on disk: only then may the writes they stand for be acknowledged. This is the
   * group commit: one flush for every write that arrived while the previous one was under way. All or none: a
   * record that can't be formatted refuses the group before anything is written; a write that fails is cut back.
   */
  appendGroup(records: UnsignedLogRecord[]): Promise<void> {
    return this.enqueue(async () => {
      const fh = this.usable();
      if (records.length === 0) return;
      records.forEach((record, i) => {
        if (record.op !== this.last + 1 + i) {
          throw new DomainError(STATUS.FOREIGN_LOG_FILE, `Operation ${record.op} can't be logged after operation ${this.last + i}: ` +
            "operation numbers follow each other without gaps.");
        }
      });
      const lines = records.map((record) => formatRecord(record).line + "\n");
      const buf = Buffer.from(lines.join(""), "utf8");
      const first = records[0]!.op;
      const at = this.size;
      try {
        await writeAllAt(fh, buf, at);
      } catch (err) {
        // Nothing was flushed yet: cutting back to `at` restores the file exactly (unless that fails too).
        await fh.truncate(at).catch(() => this.fail(`cutting back a failed append failed`));
        throw this.appendError(first, records.length, err);
      }
      try {
        await fh.datasync();
      } catch (err) {
        // After a failed flush the kernel may have dropped the pages: what is on disk is unknown. The records are cut
        // off as well as can be (the clients are told their writes failed, so the next start must not replay them),
        // and the log refuses everything until a restart, since a later flush could report success for pages already lost.
        await fh.truncate(at).then(() => fh.datasync()).catch(() => undefined);
        this.fail(`a flush failed (${(err as NodeJS.ErrnoException).code})`);
        throw this.appendError(first, records.length, err);
      }
      this.lastRecordOffset = at + Buffer.byteLength(lines.slice(0, -1).join(""), "utf8");
      this.lastGroup = { firstOp: first, offset: at, count: records.length };
      this.size = at + buf.length;
      this.last = records.at(-1)!.op;
      this.count += records.length;
    });
  }

  /**
   * Takes back the last group appended, whose first operation is `firstOp`: for writes whose data file commit
   * failed after their append (none of them was acknowledged).
   */
  takeBack(firstOp: number): Promise<void> {
    return this.enqueue(async () => {
      const fh = this.usable();
      const group = this.lastGroup;
      if (!group || group.firstOp !== firstOp || group.firstOp + group.count - 1 !== this.last) {
        throw new DomainError(STATUS.NO_LOG_FILE, `Operations ${firstOp} to ${this.last} can't be taken back from the log file ${this.opts.logFile}: ` +
          "they are not the last group written to the current file.");
      }
      try {
        await fh.truncate(group.offset);
        await fh.datasync();
      } catch (err) {
        this.fail(`taking back operations ${firstOp} to ${this.last} failed (${(err as NodeJS.ErrnoException).code})`);
        throw this.broken;
      }
      this.size = group.offset;
      this.lastRecordOffset = null;
      this.lastGroup = null;
      this.last = firstOp - 1;
      this.count -= group.count;
    });
  }

  /** Takes back the last record appended (`op` must be it): for a write whose data file commit failed after its append. */
  dropLast(op: number): Promise<void> {
    return this.enqueue(async () => {
      const fh = this.usable();
      if (op !== this.last || this.lastRecordOffset === null) {
        throw new DomainError(STATUS.NO_LOG_FILE, `Operation ${op} can't be taken back from the log file ${this.opts.logFile}: ` +
          (op !== this.last ? `its last operation is ${this.last}.` : "it is not the last record written to the current file."));
      }
      try {
        await fh.truncate(this.lastRecordOffset);
        await fh.datasync();
      } catch (err) {
        this.fail(`taking back operation ${op} failed (${(err as NodeJS.ErrnoException).code})`);
        throw this.broken;
      }
      this.size = this.lastRecordOffset;
      this.lastRecordOffset = null;
      this.lastGroup = null;
      this.last = op - 1;
      this.count--;
    });
  }

  /**
   * Closes the current file as a segment `log[first-last].journal` in the segments folder and starts a new log
   * after its last operation. For a backup's snapshot: the caller holds the data write lock, so no append is in
   * flight and the data file's last operation is the log's (calls made meanwhile would still run after it, in
   * order). Returns null, changing nothing, when the current file holds no record.
   */
  rotate(): Promise<ClosedSegment | null> {
    return this.enqueue(async () => {
      const fh = this.usable();
      if (this.count === 0) return null;
      const { logFile, segmentsDir } = this.opts;
      const segment: ClosedSegment = {
        path: path.join(segmentsDir, segmentName(this.header.firstOperation, this.last)),
        firstOperation: this.header.firstOperation,
        lastOperation: this.last,
      };
      await ensureFolder(segmentsDir);
      if (await fs.stat(/*turbopackIgnore: true*/ segment.path).then(() => true, () => false)) {
        throw new DomainError(STATUS.LOG_BACKUP_ERROR, `The log can't be closed: ${segment.path} already exists. Nothing was changed.`);
      }
      await fh.close();
      this.fh = null;
      try {
        await moveFile(logFile, segment.path);
      } catch (err) {
        this.fh = await openNoFollow(logFile, "update").catch(() => null);
        if (!this.fh) this.fail("it could not be reopened after a failed rotation");
        throw new DomainError(STATUS.LOG_BACKUP_ERROR, `The log file ${logFile} could not be closed into ${segment.path} ` +
          `(${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); it goes on as it is.`);
      }
      // From here the segment holds everything: if the new file can't be made, a restart makes it (open: no log
      // file and the segments reaching the data file's last operation), losing nothing.
      try {
        await fsyncDir(segmentsDir);
        await fsyncDir(path.dirname(logFile));
        const header = newHeader(this.opts.databaseId, segment.lastOperation + 1, this.opts.now());
        await createLogFile(logFile, header);
        this.fh = await openNoFollow(logFile, "update");
        this.header = header;
        this.size = (await this.fh.stat()).size;
        this.count = 0;
        this.lastRecordOffset = null;
        this.lastGroup = null;
      } catch (err) {
        this.fail(`no new log file could be started after ${segment.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        throw this.broken;
      }
      return segment;
    });
  }

  /** The closed segments waiting for a log backup, by first operation. */
  closedSegments(): Promise<ClosedSegment[]> {
    return listClosedSegments(this.opts.segmentsDir);
  }

  /** Closes the file once the calls already made have run; later calls refuse. */
  close(): Promise<void> {
    return this.enqueue(async () => {
      this.closed = true;
      await this.fh?.close();
      this.fh = null;
    });
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private usable(): FileHandle {
    if (this.broken) throw this.broken;
    if (this.closed || !this.fh) throw new DomainError(STATUS.NO_LOG_FILE, `The log file ${this.opts.logFile} is closed.`);
    return this.fh;
  }

  private fail(why: string): void {
    this.broken ??= new DomainError(STATUS.NO_LOG_FILE, `The log file ${this.opts.logFile} can't be used any more: ${why}. ` +
      "Writes are refused so that none goes unlogged; restart the server (the log is checked again at start).");
  }

  private appendError(op: number, count: number, err: unknown): DomainError {
    const what = count === 1 ? `Operation ${op} could not` : `Operations ${op} to ${op + count - 1} could not`;
    return new DomainError(STATUS.NO_LOG_FILE, `${what} be written to the log file ${this.opts.logFile} ` +
      `(${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ${count === 1 ? "the write is" : "these writes are"} refused so that nothing goes unlogged.`);
  }
}

function newHeader(databaseId: string, firstOperation: number, now: Date): LogHeader {
  return { type: "header", format: LOG_FORMAT, databaseId, firstOperation, createdAt: now.toISOString() };
}

/** A new log file appears whole (header written, flushed, renamed into place), so its header is never torn. */
async function createLogFile(logFile: string, header: LogHeader): Promise<void> {
  try {
    await writeFileAtomic(logFile, formatHeader(header) + "\n");
  } catch (err) {
    throw new DomainError(STATUS.NO_LOG_FILE, `The log file ${logFile} could not be created (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
}

/**
 * Temporary files a crash left: writeFileAtomic's beside the log, and a segment's copy across file systems (see
 * moveFile). One server per database, so none is in use at open.
 */
async function removeStaleTemps(logFile: string, segmentsDir: string): Promise<void> {
  const dir = path.dirname(logFile);
  const prefix = `.${path.basename(logFile)}.`;
  for (const n of await fs.readdir(dir).catch(() => [] as string[])) {
    if (n.startsWith(prefix) && /\.\d+\.[0-9a-f]+\.tmp$/.test(n)) await fs.rm(path.join(dir, n), { force: true });
  }
  for (const n of await fs.readdir(segmentsDir).catch(() => [] as string[])) {
    if (/^log\[\d+-\d+\]\.journal\.tmp$/.test(n)) await fs.rm(path.join(segmentsDir, n), { force: true });
  }
}

function dataOlderThanLog(logFile: string, segmentsDir: string, L: number, from: number, why: string): DomainError {
  return new DomainError(STATUS.FOREIGN_LOG_FILE, `The data file's last operation is ${L} but ${why}: the data file is older than its log ` +
    `(was an older copy put back?), and operations ${L + 1} to ${from - 1} are not in it. To bring it up to date, integrate the log into it; ` +
    `to keep it is, move ${logFile} and ${segmentsDir} aside: a new log then starts after operation ${L}.`);
}

async function writeAllAt(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, position + off);
    off += bytesWritten;
  }
}

/** The log file, for appends in place: never through a link (refused with 1403), never a FIFO or device. */
async function openLogFile(logFile: string): Promise<FileHandle> {
  try {
    return await openNoFollow(logFile, "update");
  } catch (err) {
    throw new DomainError(STATUS.NO_LOG_FILE, isUnsafeFileError(err) ? `The log file ${err.message}`
      : `The log file ${logFile} can't be opened (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
}

async function ensureFolder(dir: string): Promise<void> {
  const created = await makePrivateDir(dir);
  if (created) await fsyncDir(path.dirname(dir));
}

/**
 * Renames `from` to `to`; across file systems (Data/ and Logs/ on different mounts) copies to a temporary name
 * beside `to`, flushes, renames, then removes `from` — so `to` only ever appears whole.
 */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
  }
  const tmp = `${to}.tmp`;
  try {
    await fs.copyFile(from, tmp, fs.constants.COPYFILE_EXCL); // never through something already at that name
    const fh = await openNoFollow(tmp, "update");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, to);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(to));
  await fs.rm(from);
}
