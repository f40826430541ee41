// The backup journal (docs/journal.md): `Logs/Backup Journal[NNN].txt`, one block per operation, rotated at 10 MiB
// with numbering that wraps after [999] — as 4D does. Blocks are rendered by ./format-block.ts.
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { appendWhole, writeFileAtomic } from "../fs/atomic-write";
import { makePrivateDir, openNoFollow } from "../fs/safe-open";

export { formatBlock, formatRunningBlock, formatSize, formatLocalTime, formatDuration, formatTrigger, splitBlocks } from "./format-block";
export type { BlockOptions, RunningRecord } from "./format-block";

/** 4D starts a new journal file when the current one is "greater than 10 MB"; the spec fixes 10 MiB. */
export const JOURNAL_MAX_BYTES = 10 * 1024 * 1024;
/** Three-digit numbers: after [999] numbering starts again at [001], replacing the old files. */
export const JOURNAL_LAST_NUMBER = 999;

const NAME_RE = /^Backup Journal\[(\d{3})\]\.txt$/;

export function journalFileName(n: number): string {
  return `Backup Journal[${String(n).padStart(3, "0")}].txt`;
}

export interface JournalFile {
  number: number;
  name: string;
  path: string;
  size: number;
  mtime: Date;
}

function nextNumber(n: number): number {
  return n >= JOURNAL_LAST_NUMBER ? 1 : n + 1;
}

/**
 * The file most recently written. Numbers alone can't tell (after a wrap [001] is newer than [999]), so mtime
 * decides; on a tie (coarse timestamps, or two files written in the same tick) the later one is the file whose
 * successor is not among the tied ones — [001] over [999], [003] over [002]. Exported for tests.
 */
export function pickCurrent(files: JournalFile[]): JournalFile | null {
  if (files.length === 0) return null;
  const newest = Math.max(...files.map((f) => f.mtime.getTime()));
  const tied = files.filter((f) => f.mtime.getTime() === newest);
  if (tied.length === 1) return tied[0];
  const numbers = new Set(tied.map((f) => f.number));
  const ends = tied.filter((f) => !numbers.has(nextNumber(f.number)));
  const pool = ends.length > 0 ? ends : tied; // all 999 tied: no order left to read; take the highest
  return pool.reduce((a, b) => (b.number > a.number ? b : a));
}

/** The separator to write before a block so that exactly one blank line sits between blocks. */
async function separatorFor(file: string, size: number): Promise<string> {
  if (size === 0) return "";
  const fh = await openNoFollow(file, "read");
  try {
    const tail = Buffer.alloc(Math.min(2, size));
    await fh.read(tail, 0, tail.length, size - tail.length);
    const t = tail.toString("latin1");
    return t.endsWith("\n\n") || (size === 1 && t === "\n") ? "" : t.endsWith("\n") ? "\n" : "\n\n";
  } finally {
    await fh.close();
  }
}

export class BackupJournal {
  private readonly maxBytes: number;
  /** Appends run one after another so the size check and the write of one block are not interleaved. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly logsDir: string,
    opts: { maxBytes?: number; onAppend?: (file: string) => void } = {},
  ) {
    this.maxBytes = opts.maxBytes ?? JOURNAL_MAX_BYTES;
    this.onAppend = opts.onAppend;
  }

  /** Told after every block written, whoever wrote it (engine, automation, recovery): the console refreshes. */
  private readonly onAppend?: (file: string) => void;

  /**
   * The journal files, by number. A missing Logs/ folder means no journal yet. Only regular files count: a symbolic
   * link (or a FIFO) under a journal's name is not a journal file, so nothing ever reads or appends through it; a
   * block that would start a file of that number replaces the link instead (its target untouched).
   */
  async list(): Promise<JournalFile[]> {
    let names: string[];
    try {
      names = await readdir(this.logsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const files: JournalFile[] = [];
    for (const name of names) {
      const m = NAME_RE.exec(name);
      if (!m || Number(m[1]) < 1) continue;
      const p = path.join(this.logsDir, name);
      const st = await lstat(p).catch(() => null); // removed meanwhile: not a journal file any more
      if (st?.isFile()) files.push({ number: Number(m[1]), name, path: p, size: st.size, mtime: st.mtime });
    }
    return files.sort((a, b) => a.number - b.number);
  }

  async currentFile(): Promise<string | null> {
    return pickCurrent(await this.list())?.path ?? null;
  }

  /**
   * Appends one block (from formatBlock) in a single fsynced write. A current file of maxBytes or more is left
   * as it is and the next number started; a file started fresh (new, or replaced after a wrap) is written
   * atomically, so the old file of that number stays whole until the new block is on disk.
   */
  append(block: string): Promise<{ file: string }> {
    const run = this.chain.then(() => this.appendNow(block)).then((r) => {
      this.onAppend?.(r.file);
      return r;
    });
    this.chain = run.catch(() => {});
    return run;
  }

  private async appendNow(block: string): Promise<{ file: string }> {
    await makePrivateDir(this.logsDir);
    const text = block.replace(/\s+$/, "") + "\n";
    const current = pickCurrent(await this.list());
    if (current && current.size < this.maxBytes) {
      await appendWhole(current.path, (await separatorFor(current.path, current.size)) + text);
      return { file: current.path };
    }
    const file = path.join(this.logsDir, journalFileName(current ? nextNumber(current.number) : 1));
    await writeFileAtomic(file, text);
    return { file };
  }
}
