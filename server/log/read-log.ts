// Reading and checking a log file (docs/log-file.md): the current `Data/data.journal`, a closed segment or a `.4BL` log
// backup — all the same JSON Lines format, a header line then one checksummed record per operation, gapless.
import crypto from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { writeSchema, type LogHeader, type LogRecord } from "../data/write-ops";
import { formatLimit, isUnsafeFileError, openNoFollow } from "../fs/safe-open";
import { DomainError, isDomainError } from "../errors";
import { STATUS } from "../isomorphic/status";

export const LOG_FORMAT = 1;
/**
 * The longest line read: far longer than any record the data API writes (a batch of 1,000 writes), short enough
 * that a file with no line breaks (damage, or not a log at all) is refused instead of filling the memory.
 */
export const MAX_LOG_LINE_BYTES = 64 << 20;

/** A record before it is signed: what the data API hands to the log. */
export type { UnsignedLogRecord } from "../data/write-ops";
import type { UnsignedLogRecord } from "../data/write-ops";

/** First 32 hex digits of the SHA-256 of the record's JSON without its checksum (key order as written). */
export function recordChecksum(unsigned: object): string {
  return crypto.createHash("sha256").update(JSON.stringify(unsigned)).digest("hex").slice(0, 32);
}

/**
 * The line (without its newline) a record is stored as: op, time, user first, then the write's own fields, then
 * the checksum. Refuses a record the reader would refuse later: a log that can't be read back would block the
 * server at its next start, so nothing that doesn't round-trip is ever written.
 */
export function formatRecord(record: UnsignedLogRecord): { line: string; record: LogRecord } {
  const { op, time, user, ...write } = record as UnsignedLogRecord & Record<string, unknown>;
  const problem = recordProblem(op, time, user, write);
  if (problem) throw new DomainError(STATUS.NO_LOG_FILE, `Operation ${String(op)} can't be logged: ${problem}.`);
  // Through JSON and back, so the stored form (undefined fields dropped) is the one that gets signed and checked.
  const body = JSON.parse(JSON.stringify({ op, time, user, ...write })) as UnsignedLogRecord;
  const signed = { ...body, checksum: recordChecksum(body) } as LogRecord;
  return { line: JSON.stringify(signed), record: signed };
}

export function formatHeader(header: LogHeader): string {
  const { type, format, databaseId, firstOperation, createdAt } = header;
  return JSON.stringify({ type, format, databaseId, firstOperation, createdAt });
}

export interface ReadLogOptions {
  /** The database the log must belong to; another id is refused with 1416. */
  expectDatabaseId?: string;
  /**
   * Accept an unterminated last line — an append a crash interrupted, which was never acknowledged since an append
   * resolves only after its whole line, newline included, is on disk — and ignore it (`tornTail`). Without it, 1403.
   */
  allowTornTail: boolean;
}

export interface LogScan {
  header: LogHeader;
  /** Records in the file (the torn tail excluded). */
  count: number;
  /** Last operation in the file: header.firstOperation - 1 when it holds no record. */
  lastOperation: number;
  tornTail: boolean;
  /** Line number of the torn tail, when there is one. */
  tornLine: number | null;
  /** Bytes of whole lines: where a torn tail starts (the length to cut the file back to). */
  validLength: number;
  /** Where the last record's line starts (null when the file holds no record). */
  lastRecordOffset: number | null;
}

export interface LogContents extends LogScan {
  records: LogRecord[];
}

/** Reads a whole log file into memory, checking everything (see scanLog). */
export async function readLog(file: string, opts: ReadLogOptions): Promise<LogContents> {
  const records: LogRecord[] = [];
  const scan = await scanLog(file, opts, (r) => {
    records.push(r);
  });
  return { ...scan, records };
}

interface Line { text: string; offset: number; lineNo: number; bytes: number; terminated: boolean }

class OverlongLine extends Error {
  constructor(readonly lineNo: number) { super(`line ${lineNo} is longer than ${formatLimit(MAX_LOG_LINE_BYTES)}`); }
}

/** The file's lines with their byte offsets, 1 MiB at a time; the last one may lack its newline. */
async function* lines(fh: FileHandle): AsyncGenerator<Line> {
  const chunk = Buffer.allocUnsafe(1 << 20);
  let carry: Buffer[] = [];
  let carried = 0;
  let offset = 0;
  let position = 0;
  let lineNo = 0;
  for (;;) {
    const { bytesRead } = await fh.read(chunk, 0, chunk.length, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    const view = chunk.subarray(0, bytesRead);
    let start = 0;
    for (;;) {
      const nl = view.indexOf(0x0a, start);
      if (nl === -1) {
        carry.push(Buffer.from(view.subarray(start)));
        carried += bytesRead - start;
        if (carried > MAX_LOG_LINE_BYTES) throw new OverlongLine(lineNo + 1);
        break;
      }
      const piece = view.subarray(start, nl);
      const buf = carried ? Buffer.concat([...carry, piece]) : piece;
      lineNo++;
      yield { text: buf.toString("utf8"), offset, lineNo, bytes: buf.length, terminated: true };
      offset += buf.length + 1;
      carry = [];
      carried = 0;
      start = nl + 1;
    }
  }
  if (carried > 0) {
    const buf = Buffer.concat(carry);
    yield { text: buf.toString("utf8"), offset, lineNo: lineNo + 1, bytes: buf.length, terminated: false };
  }
}

/**
 * Reads a log file line by line without keeping it in memory, checking the header, every record's JSON, shape
 * and checksum, and that operation numbers follow each other from the header's first one; `onRecord` gets each
 * record in order. Missing or unreadable file, or a damaged line: 1403. A gap, operations out of order, or
 * another database's id: 1416. A file that fails a check is reported, never changed.
 */
export async function scanLog(file: string, opts: ReadLogOptions, onRecord?: (record: LogRecord, line: string) => void | Promise<void>): Promise<LogScan> {
  let fh: FileHandle;
  try {
    // Never through a link, never blocking on a FIFO: the log files are the server's own.
    fh = await openNoFollow(file, "read");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (isUnsafeFileError(err)) throw new DomainError(STATUS.NO_LOG_FILE, `The log file ${err.message}`);
    throw new DomainError(STATUS.NO_LOG_FILE, code === "ENOENT"
      ? `The log file ${file} does not exist.`
      : `The log file ${file} can't be opened (${code ?? (err as Error).message}).`);
  }
  try {
    let header: LogHeader | null = null;
    let last = 0;
    let count = 0;
    let validLength = 0;
    let lastRecordOffset: number | null = null;
    let tornLine: number | null = null;
    const damaged = (lineNo: number, why: string) => new DomainError(STATUS.NO_LOG_FILE,
      `The log file ${file} is damaged at line ${lineNo}: ${why}` +
      (header ? ` (the operations up to ${last} before it are intact).` : ".") +
      " Nothing was changed; restore the file from a copy, or move it aside.");
    try {
      for await (const line of lines(fh)) {
        if (!line.terminated) {
          if (!opts.allowTornTail) throw damaged(line.lineNo, "the last line is incomplete (a write was interrupted)");
          if (!header) throw damaged(line.lineNo, "the header line is incomplete");
          tornLine = line.lineNo;
          break;
        }
        if (!header) {
          header = parseHeader(line.text, (why) => damaged(line.lineNo, why));
          if (opts.expectDatabaseId !== undefined && header.databaseId !== opts.expectDatabaseId) {
            throw new DomainError(STATUS.FOREIGN_LOG_FILE, `The log file ${file} belongs to another database (its id is ${header.databaseId}, ` +
              `this database's is ${opts.expectDatabaseId}). Use this database's own log files, or move that one aside.`);
          }
          last = header.firstOperation - 1;
        } else {
          const record = parseRecord(line.text, (why) => damaged(line.lineNo, why));
          if (record.op !== last + 1) {
            throw new DomainError(STATUS.FOREIGN_LOG_FILE, record.op > last + 1
              ? `The log file ${file} has a gap between operation ${last} and ${record.op} (line ${line.lineNo}): operations are missing.`
              : `The log file ${file} has operation ${record.op} after operation ${last} (line ${line.lineNo}): its operations are out of order.`);
          }
          last = record.op;
          count++;
          lastRecordOffset = line.offset;
          await onRecord?.(record, line.text);
        }
        validLength = line.offset + line.bytes + 1;
      }
    } catch (err) {
      if (isDomainError(err)) throw err;
      if (err instanceof OverlongLine) throw damaged(err.lineNo, `${err.message}: it is not a log record (the file is damaged, or not a log file)`);
      throw new DomainError(STATUS.NO_LOG_FILE, `The log file ${file} can't be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
    }
    if (!header) throw damaged(1, "the file is empty (it has no header line)");
    return { header, count, lastOperation: last, tornTail: tornLine !== null, tornLine, validLength, lastRecordOffset };
  } finally {
    await fh.close();
  }
}

function parseHeader(text: string, damaged: (why: string) => DomainError): LogHeader {
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(text);
  } catch {
    throw damaged("the header line is not valid JSON");
  }
  if (!isObject(h) || h.type !== "header") throw damaged("the first line is not a log header");
  if (h.format !== LOG_FORMAT) throw damaged(`the header says format ${JSON.stringify(h.format)}; this Strongbox reads format ${LOG_FORMAT}`);
  if (typeof h.databaseId !== "string" || h.databaseId === "") throw damaged("the header has no database id");
  if (!Number.isSafeInteger(h.firstOperation) || (h.firstOperation as number) < 1) throw damaged("the header's first operation is not a positive whole number");
  if (typeof h.createdAt !== "string") throw damaged("the header has no creation date");
  return h as unknown as LogHeader;
}

function parseRecord(text: string, damaged: (why: string) => DomainError): LogRecord {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(text);
  } catch {
    throw damaged("the line is not valid JSON");
  }
  if (!isObject(r) || typeof r.checksum !== "string") throw damaged("the line is not a log record");
  const { checksum, ...unsigned } = r;
  if (recordChecksum(unsigned) !== checksum) throw damaged("the record does not match its checksum");
  const { op, time, user, ...write } = unsigned;
  const problem = recordProblem(op, time, user, write);
  if (problem) throw damaged(problem);
  return r as unknown as LogRecord;
}

/** Why a record's fields are not what the log holds, or null when they are. */
function recordProblem(op: unknown, time: unknown, user: unknown, write: unknown): string | null {
  if (!Number.isSafeInteger(op) || (op as number) < 1) return "its operation number is not a positive whole number";
  if (typeof time !== "string") return "it has no time";
  if (user !== null && typeof user !== "string") return "its user is neither a name nor null";
  const parsed = writeSchema.safeParse(write);
  if (!parsed.success) return `it does not hold a valid write (${parsed.error.issues[0]?.message ?? "unknown shape"})`;
  return null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
