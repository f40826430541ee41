// Log backups (docs/log-file.md): when a data backup commits, every closed log segment is saved as one `<DatabaseName>[K].4BL`
// in the destination (K: the previous archive's number), and only then removed from `Logs/Log segments/`.
import fs from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { fsyncDir } from "../fs/atomic-write";
import { openNoFollow } from "../fs/safe-open";
import { DomainError, isDomainError } from "../errors";
import { STATUS } from "../isomorphic/status";
import type { ClosedSegment } from "./log-file";
import { formatHeader, LOG_FORMAT, scanLog } from "./read-log";

export function logBackupName(databaseName: string, number: number): string {
  return `${databaseName}[${String(number).padStart(4, "0")}].4BL`;
}

/** The name a log backup is written under until it is whole. */
export function tempLogBackupName(databaseName: string, number: number): string {
  return `${logBackupName(databaseName, number)}.tmp`;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Temporary log backups a crash left in the destination (to remove at the next start, like the archive's). */
export async function listLogBackupTemps(destination: string, databaseName: string): Promise<string[]> {
  const re = new RegExp(`^${escape(databaseName)}\\[\\d{4,}\\]\\.4BL\\.tmp$`);
  const names = await fs.readdir(destination).catch(() => [] as string[]);
  return names.filter((n) => re.test(n)).map((n) => path.join(destination, n));
}

export interface WriteLogBackupOptions {
  destination: string;
  databaseName: string;
  /** K: the number of the archive whose snapshot these operations follow (0 before the first). */
  number: number;
  databaseId: string;
  /** The closed segments to save, in any order; they must follow each other without a gap. */
  segments: ClosedSegment[];
  now?: () => Date;
}

export interface WrittenLogBackup { path: string; firstOperation: number; lastOperation: number; records: number }

/**
 * Writes the segments, checked record by record (checksums, numbering, database id), as one log backup: under a
 * temporary name, flushed, then renamed. An existing log backup of that name is never replaced. Errors are 1408
 * (1416 for a segment of another database); the segments are left untouched whatever happens.
 */
export async function writeLogBackup(opts: WriteLogBackupOptions): Promise<WrittenLogBackup> {
  const { destination, databaseName, number, databaseId } = opts;
  const target = path.join(destination, logBackupName(databaseName, number));
  const segments = [...opts.segments].sort((a, b) => a.firstOperation - b.firstOperation);
  if (segments.length === 0) throw new DomainError(STATUS.LOG_BACKUP_ERROR, `There is no closed log segment to save as ${target}.`);
  for (let i = 1; i < segments.length; i++) {
    const [prev, next] = [segments[i - 1], segments[i]];
    if (next.firstOperation !== prev.lastOperation + 1) {
      throw new DomainError(STATUS.LOG_BACKUP_ERROR, `The closed log segments don't follow each other: ${path.basename(prev.path)} ends at ` +
        `operation ${prev.lastOperation} and ${path.basename(next.path)} starts at ${next.firstOperation}. Nothing was written; ` +
        `the segments stay in ${path.dirname(next.path)}.`);
    }
  }
  if (await fs.lstat(target).then(() => true, () => false)) {
    throw new DomainError(STATUS.LOG_BACKUP_ERROR, `The log backup ${target} already exists and is never replaced; ` +
      "the closed log segments are kept for the next log backup.");
  }
  const first = segments[0].firstOperation;
  const last = segments.at(-1)!.lastOperation;
  const temp = path.join(destination, tempLogBackupName(databaseName, number));
  let records = 0;
  let fh: FileHandle | null = null;
  try {
    fh = await openNoFollow(temp, "replace"); // 0600, and never written through a link
    const out = new BufferedWriter(fh);
    const now = (opts.now ?? (() => new Date()))();
    await out.write(formatHeader({ type: "header", format: LOG_FORMAT, databaseId, firstOperation: first, createdAt: now.toISOString() }) + "\n");
    for (const segment of segments) {
      const scan = await scanLog(segment.path, { expectDatabaseId: databaseId, allowTornTail: false }, (_record, line) => out.write(line + "\n"));
      if (scan.header.firstOperation !== segment.firstOperation || scan.lastOperation !== segment.lastOperation || scan.count === 0) {
        throw new DomainError(STATUS.LOG_BACKUP_ERROR, `The log segment ${segment.path} holds operations ${scan.header.firstOperation} to ` +
          `${scan.lastOperation}, not what its name says.`);
      }
      records += scan.count;
    }
    await out.flush();
    await fh.sync();
    await fh.close();
    fh = null;
    await fs.rename(temp, target);
    await fsyncDir(destination);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    if (isDomainError(err)) {
      if (err.status === STATUS.FOREIGN_LOG_FILE || err.status === STATUS.LOG_BACKUP_ERROR) throw err;
      throw new DomainError(STATUS.LOG_BACKUP_ERROR, err.message, { cause: err });
    }
    throw new DomainError(STATUS.LOG_BACKUP_ERROR, `The log backup ${target} could not be written ` +
      `(${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); the closed log segments are kept for the next log backup.`, { cause: err });
  }
  return { path: target, firstOperation: first, lastOperation: last, records };
}

/** Removes segments once their log backup is on disk. */
export async function removeSegments(segments: ClosedSegment[]): Promise<void> {
  const dirs = new Set<string>();
  for (const s of segments) {
    await fs.rm(s.path, { force: true });
    dirs.add(path.dirname(s.path));
  }
  for (const d of dirs) await fsyncDir(d);
}

/** Collects lines into 1 MiB writes: a log backup can hold hundreds of thousands of small records. */
class BufferedWriter {
  private parts: Buffer[] = [];
  private pending = 0;
  private position = 0;
  constructor(private readonly fh: FileHandle) {}

  async write(text: string): Promise<void> {
    const buf = Buffer.from(text, "utf8");
    this.parts.push(buf);
    this.pending += buf.length;
    if (this.pending >= 1 << 20) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending === 0) return;
    const buf = Buffer.concat(this.parts, this.pending);
    this.parts = [];
    this.pending = 0;
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, off, buf.length - off, this.position);
      off += bytesWritten;
      this.position += bytesWritten;
    }
  }
}
