// Reads the backup journal for the console's Journal page (docs/console.md) one page at a time, so the browser never
// receives a whole file: a full file is 10 MiB, tens of thousands of blocks. Each file gets an index of where its
// blocks start, with each block's kind and status, kept while the file is unchanged and extended when it only grew.
import type { FileHandle } from "node:fs/promises";
import { isUnsafeFileError, openNoFollow } from "../fs/safe-open";
import type { OperationKind } from "../operation";
import { BackupJournal, pickCurrent, type JournalFile } from "./backup-journal";
import { BLOCK_KINDS, BLOCK_STATUSES, parseBlock, summarizeBlock, type BlockStatus, type ParsedBlock } from "../isomorphic/journal-block";

export interface JournalFileInfo {
  number: number;
  name: string;
  size: number;
  /** Last change, UTC ISO. */
  mtime: string;
  /** The file most recently written (the one new blocks go to). */
  current: boolean;
}

export interface JournalPageQuery {
  /** Blocks to skip, newest first. */
  offset: number;
  limit: number;
  kind?: OperationKind;
  status?: BlockStatus;
  /** Words that must all appear in a block (any case, in any order). */
  search?: string;
}

export interface JournalEntry {
  /** 1 for the oldest block of the file: stable while the file grows, so it keys a card. */
  position: number;
  text: string;
  block: ParsedBlock;
}

export interface JournalPage {
  file: JournalFileInfo;
  /** Blocks matching the query (all of them without filters). */
  total: number;
  /** Blocks in the file. */
  totalInFile: number;
  offset: number;
  limit: number;
  /** Newest first. */
  blocks: JournalEntry[];
}

/** Reading a file in pieces keeps memory flat however large a journal someone hands us. */
const CHUNK_BYTES = 1024 * 1024;
/** A block starts at a line beginning with "*** "; format-block indents notes so that no other line does. */
const BOUNDARY = Buffer.from("\n*** ");
/** Files whose index is kept (each ~10 bytes a block): the page usually shows one or two. */
const INDEXES_KEPT = 8;
/** Filtered results kept, so paging through a search doesn't scan the file again. */
const RESULTS_KEPT = 16;

const KIND_CODE = new Map<OperationKind | null, number>([[null, 0], ...BLOCK_KINDS.map((k, i) => [k, i + 1] as const)]);
const STATUS_CODE = new Map<BlockStatus, number>(BLOCK_STATUSES.map((s, i) => [s, i] as const));

/** Where a file's blocks are, for one version of it (inode, size, mtime). */
interface FileIndex {
  ino: number;
  size: number;
  mtimeMs: number;
  /** The file's first bytes: a file rewritten in place (not appended to) no longer starts the same way. */
  head: Buffer;
  starts: number[];
  kinds: number[];
  statuses: number[];
}

export class JournalReader {
  private readonly journal: BackupJournal;
  private readonly indexes = new Map<string, FileIndex>();
  private readonly building = new Map<string, Promise<FileIndex>>();
  private readonly results = new Map<string, number[]>();

  constructor(readonly logsDir: string) {
    this.journal = new BackupJournal(logsDir);
  }

  /** The journal files by number, the current one marked. */
  async files(): Promise<JournalFileInfo[]> {
    const files = await this.journal.list();
    const current = pickCurrent(files);
    return files.map((f) => info(f, f === current));
  }

  /** A file by its number, from the listing only: a request never names a path. */
  async file(number: number): Promise<JournalFile | null> {
    return (await this.journal.list()).find((f) => f.number === number) ?? null;
  }

  /**
   * One page of a file's blocks, newest first. `number` omitted: the current file. Null when that file doesn't
   * exist (or, without a number, when there is no journal yet).
   */
  async page(number: number | undefined, query: JournalPageQuery): Promise<JournalPage | null> {
    const files = await this.journal.list();
    const current = pickCurrent(files);
    const file = number === undefined ? current : files.find((f) => f.number === number);
    if (!file) return null;
    // Without following a link: one planted under the name since the listing is refused, its target never read.
    const fh = await openNoFollow(file.path, "read").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || isUnsafeFileError(err)) return null; // replaced or removed since the listing
      throw err;
    });
    if (!fh) return null;
    try {
      // The version read is the one open now: sizes and times come from it, not from the listing.
      const st = await fh.stat();
      const index = await this.indexFor(file.path, fh, st);
      const matches = await this.matching(file.path, fh, index, query);
      const picked = matches.slice(query.offset, query.offset + query.limit);
      const blocks: JournalEntry[] = [];
      for (const i of picked) {
        const text = (await readRange(fh, index.starts[i], endOf(index, i))).toString("utf8").replace(/\s+$/, "");
        blocks.push({ position: i + 1, text, block: parseBlock(text) });
      }
      return {
        file: info({ ...file, size: index.size, mtime: new Date(index.mtimeMs) }, file === current),
        total: matches.length,
        totalInFile: index.starts.length,
        offset: query.offset,
        limit: query.limit,
        blocks,
      };
    } finally {
      await fh.close();
    }
  }

  /** The index for this version of the file: cached, extended when the file only grew, else rebuilt. */
  private async indexFor(path: string, fh: FileHandle, st: { ino: number; size: number; mtimeMs: number }): Promise<FileIndex> {
    const cached = this.indexes.get(path);
    if (cached && cached.ino === st.ino && cached.size === st.size && cached.mtimeMs === st.mtimeMs) {
      this.indexes.delete(path); // most recently used last
      this.indexes.set(path, cached);
      return cached;
    }
    // Two page requests for the same change share one scan.
    const pending = this.building.get(path);
    if (pending) {
      const index = await pending;
      if (index.ino === st.ino && index.size === st.size && index.mtimeMs === st.mtimeMs) return index;
    }
    const build = (async () => {
      const grown = cached && cached.ino === st.ino && st.size > cached.size && (await onlyGrew(fh, cached));
      return grown ? extend(fh, cached, st) : extend(fh, emptyIndex(st, await readRange(fh, 0, Math.min(st.size, 256))), st);
    })();
    this.building.set(path, build);
    try {
      const index = await build;
      this.indexes.delete(path);
      this.indexes.set(path, index);
      while (this.indexes.size > INDEXES_KEPT) this.indexes.delete(this.indexes.keys().next().value!);
      return index;
    } finally {
      if (this.building.get(path) === build) this.building.delete(path);
    }
  }

  /** Positions (0-based, file order) of the blocks matching the query, newest first. */
  private async matching(path: string, fh: FileHandle, index: FileIndex, q: JournalPageQuery): Promise<number[]> {
    const words = (q.search ?? "").toLowerCase().split(/\s+/).filter(Boolean);
    const kind = q.kind === undefined ? undefined : KIND_CODE.get(q.kind);
    const status = q.status === undefined ? undefined : STATUS_CODE.get(q.status);
    const key = JSON.stringify([path, index.ino, index.size, index.mtimeMs, kind, status, words]);
    const cached = this.results.get(key);
    if (cached) return cached;

    const out: number[] = [];
    for (let i = index.starts.length - 1; i >= 0; i--) {
      if ((kind === undefined || index.kinds[i] === kind) && (status === undefined || index.statuses[i] === status)) out.push(i);
    }
    let result = out;
    if (words.length > 0) {
      // Search reads the file as it is indexed (never past that size), a piece at a time, newest blocks first.
      result = [];
      for (let n = 0; n < out.length; ) {
        const last = out[n];
        const end = endOf(index, last);
        // A run of candidates whose bytes fit in one read (from the oldest of the run to the newest's end).
        let m = n;
        while (m + 1 < out.length && end - index.starts[out[m + 1]] <= CHUNK_BYTES) m++;
        const from = index.starts[out[m]];
        const buf = await readRange(fh, from, end);
        for (let k = n; k <= m; k++) {
          const i = out[k];
          const text = buf.toString("utf8", index.starts[i] - from, endOf(index, i) - from).toLowerCase();
          if (words.every((w) => text.includes(w))) result.push(i);
        }
        n = m + 1;
      }
    }
    this.results.set(key, result);
    while (this.results.size > RESULTS_KEPT) this.results.delete(this.results.keys().next().value!);
    return result;
  }
}

function info(f: Pick<JournalFile, "number" | "name" | "size" | "mtime">, current: boolean): JournalFileInfo {
  return { number: f.number, name: f.name, size: f.size, mtime: f.mtime.toISOString(), current };
}

function emptyIndex(st: { ino: number; mtimeMs: number }, head: Buffer): FileIndex {
  return { ino: st.ino, size: 0, mtimeMs: st.mtimeMs, head, starts: [], kinds: [], statuses: [] };
}

function endOf(index: FileIndex, i: number): number {
  return i + 1 < index.starts.length ? index.starts[i + 1] : index.size;
}

async function readRange(fh: FileHandle, from: number, to: number): Promise<Buffer> {
  const buf = Buffer.alloc(Math.max(0, to - from));
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, from + done);
    if (bytesRead === 0) break; // shrank meanwhile: what was there is what we have
    done += bytesRead;
  }
  return done === buf.length ? buf : buf.subarray(0, done);
}

/**
 * True when the file still begins as indexed and its last indexed block still starts where it did: then it was
 * appended to (what BackupJournal does), and only its end needs reading. Anything else is a rebuild.
 */
async function onlyGrew(fh: FileHandle, index: FileIndex): Promise<boolean> {
  const head = await readRange(fh, 0, index.head.length);
  if (!head.equals(index.head)) return false;
  if (index.starts.length === 0) return true;
  const last = index.starts[index.starts.length - 1];
  if (last === 0) return true; // covered by the head
  const at = await readRange(fh, last - 1, last + 4);
  return at.equals(BOUNDARY);
}

/**
 * Scans from the last indexed block (it may have grown, or been a cut block) to the end, adding every block.
 * Returns a new index; the cached one stays valid for readers still using it.
 */
async function extend(fh: FileHandle, base: FileIndex, st: { size: number; mtimeMs: number }): Promise<FileIndex> {
  const keep = Math.max(0, base.starts.length - 1);
  const index: FileIndex = {
    ...base, size: st.size, mtimeMs: st.mtimeMs,
    starts: base.starts.slice(0, keep), kinds: base.kinds.slice(0, keep), statuses: base.statuses.slice(0, keep),
  };
  const add = (start: number, bytes: Buffer) => {
    const text = bytes.toString("utf8");
    if (text.trim() === "") return; // blank lines before the first block
    const block = summarizeBlock(text);
    index.starts.push(start);
    index.kinds.push(KIND_CODE.get(block.kind)!);
    index.statuses.push(STATUS_CODE.get(block.status)!);
  };
  // `carry` holds the block being read (it may span chunks), starting at file offset `carryAt`.
  let carryAt = base.starts.length ? base.starts[base.starts.length - 1] : 0;
  let carry: Buffer = Buffer.alloc(0);
  for (let pos = carryAt; pos < st.size; ) {
    const chunk = await readRange(fh, pos, Math.min(st.size, pos + CHUNK_BYTES));
    if (chunk.length === 0) break;
    pos += chunk.length;
    // Look again at the carry's last bytes: a boundary may straddle two chunks.
    const searchFrom = Math.max(0, carry.length - BOUNDARY.length + 1);
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let blockStart = 0;
    for (let at = buf.indexOf(BOUNDARY, searchFrom); at !== -1; at = buf.indexOf(BOUNDARY, at + 1)) {
      add(carryAt + blockStart, buf.subarray(blockStart, at + 1));
      blockStart = at + 1;
    }
    carry = buf.subarray(blockStart);
    carryAt += blockStart;
  }
  if (carry.length) add(carryAt, carry);
  return index;
}
