// The log file as the server holds it (docs/log-file.md, `Advanced/UseLog`): the one the data API appends to, switched on
// or off at server start and at each data snapshot (the point where a new log chain can start cleanly, as in 4D
// where enabling the log takes effect with the next full backup). A log that can't be used (unreadable: 1403;
// another database's: 1416) refuses writes and backups with its message rather than letting writes go unlogged.
import fs from "node:fs";
import type { Bookkeeping } from "../data/bookkeeping";
import type { WriteLog } from "../data/data-store";
import type { LogRecord, UnsignedLogRecord } from "../data/write-ops";
import { listClosedSegments, OperationLog, type ClosedSegment } from "./log-file";
import { DomainError, isDomainError } from "../errors";
import { STATUS } from "../isomorphic/status";

export interface CurrentLogOptions {
  logFile: string;
  segmentsDir: string;
  now?: () => Date;
}

export class CurrentLog implements WriteLog {
  private log: OperationLog | null = null;
  private failure: DomainError | null = null;

  constructor(private readonly opts: CurrentLogOptions) {}

  /** True while writes are being logged. */
  get enabled(): boolean {
    return this.log !== null;
  }

  /** Why the log can't be used (1403/1416), or null. */
  get error(): DomainError | null {
    return this.failure;
  }

  /**
   * At server start: opens the log when UseLog is on. Returns the operations logged but missing from the data file
   * (a crash between the log's flush and the data file's commit), for the caller to replay, and notes to print.
   */
  async start(useLog: boolean, bookkeeping: Bookkeeping): Promise<{ pending: LogRecord[]; notes: string[] }> {
    if (!useLog) return { pending: [], notes: await this.closeLeftover(bookkeeping) };
    try {
      const opened = await OperationLog.open({ logFile: this.opts.logFile, segmentsDir: this.opts.segmentsDir,
        databaseId: bookkeeping.databaseId, lastOperation: bookkeeping.lastOperation, now: this.opts.now });
      this.log = opened.log;
      return { pending: opened.pending, notes: opened.notes };
    } catch (err) {
      this.failure = asLogError(err, this.opts.logFile);
      return { pending: [], notes: [this.failure.message] };
    }
  }

  /**
   * UseLog off at start while a log file remains: its operations are closed into a segment (saved with the next
   * log backup) so that none is lost, and a later switch back on starts a clean chain instead of meeting a log that
   * ends before the data file (1416).
   */
  private async closeLeftover(bookkeeping: Bookkeeping): Promise<string[]> {
    if (!fs.existsSync(this.opts.logFile)) return [];
    try {
      const opened = await OperationLog.open({ logFile: this.opts.logFile, segmentsDir: this.opts.segmentsDir,
        databaseId: bookkeeping.databaseId, lastOperation: bookkeeping.lastOperation, now: this.opts.now });
      const segment = await opened.log.rotate();
      await opened.log.close();
      await fs.promises.rm(this.opts.logFile, { force: true });
      return segment ? [`The log file is off (UseLog): its operations ${segment.firstOperation}–${segment.lastOperation} wait for the next log backup.`] : [];
    } catch (err) {
      return [`The log file is off (UseLog), and the one left in ${this.opts.logFile} could not be closed: ${(err as Error).message}`];
    }
  }

  appendGroup(records: UnsignedLogRecord[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return this.log ? this.log.appendGroup(records) : Promise.resolve();
  }

  takeBack(firstOp: number): Promise<void> {
    return this.log ? this.log.takeBack(firstOp) : Promise.resolve();
  }

  /**
   * At a backup's snapshot, with the data write lock held and no write in flight: the current log is closed (its
   * segment waits for the log backup) and a new one starts after `bookkeeping.lastOperation`; UseLog switched on
   * starts the log here, switched off closes it here.
   */
  async atSnapshot(useLog: boolean, bookkeeping: Bookkeeping): Promise<ClosedSegment | null> {
    if (this.failure && useLog) throw this.failure;
    // Turned off: a log that couldn't be used no longer matters (writes go on unlogged, as asked).
    if (!useLog) this.failure = null;
    if (this.log) {
      if (!fs.existsSync(this.opts.logFile)) {
        throw new DomainError(STATUS.NO_LOG_FILE, `The log file ${this.opts.logFile} has disappeared from the disk while the server was using it. ` +
          "Restart the server to start a new log (the operations since the last backup are in the data file), then back up again.");
      }
      if (this.log.lastOperation !== bookkeeping.lastOperation) {
        throw new DomainError(STATUS.FOREIGN_LOG_FILE, `The log file ends at operation ${this.log.lastOperation} but the data file's last operation is ` +
          `${bookkeeping.lastOperation}: they don't match. Check ${this.opts.logFile}.`);
      }
    }
    const segment = this.log ? await this.log.rotate() : null;
    if (!useLog && this.log) {
      await this.log.close();
      this.log = null;
    } else if (useLog && !this.log) {
      const opened = await OperationLog.open({ logFile: this.opts.logFile, segmentsDir: this.opts.segmentsDir,
        databaseId: bookkeeping.databaseId, lastOperation: bookkeeping.lastOperation, now: this.opts.now });
      this.log = opened.log;
    }
    return segment;
  }

  /**
   * After the data file was replaced (restore in place): the old log chain is over — the caller has moved its file
   * and segments aside — and a new one starts after the new data file's last operation, under its database id.
   */
  async restart(useLog: boolean, bookkeeping: Bookkeeping): Promise<void> {
    await this.log?.close().catch(() => undefined);
    this.log = null;
    this.failure = null;
    if (!useLog) return;
    try {
      const opened = await OperationLog.open({ logFile: this.opts.logFile, segmentsDir: this.opts.segmentsDir,
        databaseId: bookkeeping.databaseId, lastOperation: bookkeeping.lastOperation, now: this.opts.now });
      this.log = opened.log;
    } catch (err) {
      // Writes are then refused with this reason rather than acknowledged unlogged.
      this.failure = asLogError(err, this.opts.logFile);
      throw this.failure;
    }
  }

  /** Closed segments waiting for a log backup (also those a stopped backup left, and after UseLog was turned off). */
  closedSegments(): Promise<ClosedSegment[]> {
    return listClosedSegments(this.opts.segmentsDir);
  }

  async close(): Promise<void> {
    await this.log?.close();
    this.log = null;
  }
}

function asLogError(err: unknown, logFile: string): DomainError {
  if (isDomainError(err)) return err;
  return new DomainError(STATUS.NO_LOG_FILE, `The log file ${logFile} can't be used: ${(err as Error).message}`);
}
