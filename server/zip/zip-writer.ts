// Streaming ZIP writer. A dispatcher hands entries to compression workers ahead of the output
// (bounded by a memory budget): small files in batches that workers read, hash and deflate whole;
// large files read here in chunks and deflated in parallel pigz-style. One writer loop emits
// everything strictly in order.
import fs from "node:fs";
import os from "node:os";
import crypto from "node:crypto";
import zlib from "node:zlib";
import { promisify } from "node:util";
import { linkRefused, PRIVATE_FILE_MODE } from "../fs/safe-open";
import { BufferPool, ZlibPool, storedBlocks, type FileItem, type FilesReply } from "./compress";
import {
  centralHeader, dataDescriptor, endRecords, localHeader, unixAttrs,
  FLAG_DESCRIPTOR, FLAG_UTF8, MAX16, METHOD_DEFLATE, METHOD_STORED, type EntryRecord,
} from "./zip-format";

const fsOpen = promisify(fs.open);
const fsRead = promisify(fs.read);
const fsClose = promisify(fs.close);
const fsFsync = promisify(fs.fsync);
const fsFdatasync = promisify(fs.fdatasync);
const fsWritev = promisify(fs.writev);
const fsFchmod = promisify(fs.fchmod);
const fsFstat = promisify(fs.fstat);

export type ZipSource =
  | { kind: "file"; name: string; path: string; size: number; mtime: Date; mode: number }
  | { kind: "symlink"; name: string; target: string; mtime: Date }
  | { kind: "directory"; name: string; mtime: Date; mode: number }
  | { kind: "buffer"; name: string; data: Buffer; mtime: Date; mode?: number };

export interface WrittenEntry {
  name: string;
  kind: ZipSource["kind"];
  size: number; // bytes actually archived (a file that changed while read reports its real size)
  compressedSize: number;
  crc32: number;
  sha256: string; // of the uncompressed content (a symlink's target; empty for directories)
}
/** Files that vanished (or became something else than a file) between listing and reading. */
export interface SkippedEntry { name: string; path: string; error: string }
export interface ZipWriteResult { entries: WrittenEntry[]; skipped: SkippedEntry[]; archiveSize: number; archiveSha256: string }
export interface ZipProgress { bytesDone: number; filesDone: number; currentName: string }

export interface ZipWriterOptions {
  level: 0 | 1 | 6;
  signal?: AbortSignal;
  onProgress?: (p: ZipProgress) => void;
  /** Awaited with the source bytes of each piece written: lets the caller throttle (tests, I/O niceness). */
  pace?: (bytes: number) => Promise<void>;
  /** Files up to this size are compressed whole; larger ones split into chunks of it. Default 1 MiB. */
  chunkSize?: number;
  /** Memory for data between reading and writing (pool buffers of chunkSize + 64 KiB). Default 8 MiB. */
  maxInFlightBytes?: number;
  /** Compression worker threads (~10-25 MB each). Default: cores, at least 2, at most 4. */
  workers?: number;
  /** Tests: zip64 records everywhere, as if every size and offset overflowed. */
  forceZip64?: boolean;
}

const EMPTY_SHA256 = crypto.createHash("sha256").digest("hex");
const DICT_SIZE = 32 * 1024;
const ZIP64_LOCAL_AT = 0xf0000000; // files this big (at listing) get zip64 local headers up front
const LIMIT32 = 0xff000000; // others stop there: deflate overhead must still fit 32-bit sizes
const MAX_QUEUED = 4096; // entries accepted but not yet written (add() waits beyond)
const BATCH_FILES = 256;
const FLUSH_BYTES = 1 << 20;
const SYNC_BYTES = 32 << 20; // flush to disk as we go: the final fsync stays short even on slow disks
const SKIPPABLE = new Set(["ENOENT", "ENOTDIR", "ELOOP", "EISDIR", "ENOTREG"]);

/** What the writer gets for a piece of an entry. `raw` source bytes became `pieces` (`size` bytes). */
interface Piece {
  pieces: Buffer[];
  size: number;
  raw: number;
  stored: boolean;
  crc?: number; // whole entries compressed by a worker bring their CRC and digest
  sha256?: string;
  skip?: string;
  grew?: boolean; // listed as small, now larger than a chunk: must be streamed instead
  recycle?: ArrayBuffer[]; // pool buffers to give back once the pieces are on disk
}
interface Chunk { reserved: number; last: boolean; out: Promise<Piece> }

/** Tiny single-consumer queue. */
class Channel<T> {
  private items: T[] = [];
  private head = 0;
  private waiter?: (v: T) => void;
  push(v: T): void {
    const w = this.waiter;
    if (w) { this.waiter = undefined; w(v); } else this.items.push(v);
  }
  take(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.items.length) { this.items = this.items.slice(this.head); this.head = 0; }
    return v;
  }
  next(): Promise<T> {
    if (this.head < this.items.length) return Promise.resolve(this.take()!);
    return new Promise((r) => { this.waiter = r; });
  }
}

interface Job {
  index: number;
  source: ZipSource;
  name: string;
  chunks: Channel<Chunk>;
  zip64Local: boolean;
  size: number;
  crc: number;
  sha256: string;
}

/**
 * Pool-buffer bytes between reading and writing. The entry being written (the head) may go
 * `headExtra` beyond the limit: others never exceed it, so the head can always progress.
 */
class Budget {
  private used = 0;
  private head?: Job;
  private waiters: Array<{ job: Job; n: number; resolve: () => void; reject: (e: unknown) => void }> = [];
  constructor(private readonly max: number, private readonly headExtra: number) {}

  private fits(job: Job, n: number): boolean {
    return this.used + n <= this.max + (job === this.head ? this.headExtra : 0) || this.used === 0;
  }
  /** Grants at once (returns undefined) or returns a promise that resolves when granted. */
  acquire(job: Job, n: number): Promise<void> | undefined {
    if (this.fits(job, n)) { this.used += n; return undefined; }
    return new Promise((resolve, reject) => this.waiters.push({ job, n, resolve, reject }));
  }
  release(n: number): void { this.used -= n; this.pump(); }
  setHead(job: Job): void { this.head = job; this.pump(); }
  failAll(err: unknown): void { for (const w of this.waiters.splice(0)) w.reject(err); }
  private pump(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i]!;
      if (this.fits(w.job, w.n)) { this.waiters.splice(i, 1); this.used += w.n; w.resolve(); } else i++;
    }
  }
}

/**
 * Ordered output with batched writes; one write in flight while the next batch fills, and an
 * fdatasync in the background every SYNC_BYTES so the disk works while we compress.
 */
class Output {
  position = 0;
  readonly hash = crypto.createHash("sha256");
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private inflight: Promise<void> = Promise.resolve();
  private callbacks: Array<() => void> = [];
  private syncing?: Promise<void>;
  private syncedTo = 0;
  /** `onError`: a failed write fails the archive at once, not at the next flush. */
  constructor(readonly fd: number, private readonly onError: (e: unknown) => void) {}
  /** Runs `fn` once everything pushed so far has been written. */
  afterWrite(fn: () => void): void {
    if (this.pending.length) this.callbacks.push(fn);
    else this.inflight.then(fn, () => {});
  }
  push(b: Buffer): void {
    if (!b.length) return;
    this.hash.update(b);
    this.pending.push(b);
    this.pendingBytes += b.length;
    this.position += b.length;
  }
  /** Hands a full batch to the kernel; waits only for the previous one. */
  async maybeFlush(force = false): Promise<void> {
    if (!force && this.pendingBytes < FLUSH_BYTES && this.pending.length < 512) return;
    await this.inflight;
    if (!this.pending.length) return;
    const bufs = this.pending, at = this.position - this.pendingBytes, callbacks = this.callbacks;
    this.pending = [];
    this.pendingBytes = 0;
    this.callbacks = [];
    const end = this.position;
    this.inflight = writeAll(this.fd, bufs, at).then(() => {
      for (const f of callbacks) f();
      if (!this.syncing && end - this.syncedTo >= SYNC_BYTES) {
        this.syncedTo = end;
        this.syncing = fsFdatasync(this.fd).finally(() => { this.syncing = undefined; });
        this.syncing.catch(this.onError);
      }
    });
    this.inflight.catch(this.onError);
  }
  /** Everything written and on disk. */
  async finish(): Promise<void> {
    await this.maybeFlush(true);
    await this.inflight;
    await this.syncing;
    this.syncing = fsFsync(this.fd); // tracked, so settle() waits for it too
    await this.syncing;
  }
  /** Waits for I/O in flight, ignoring its outcome (before closing the fd on failure). */
  async settle(): Promise<void> {
    await this.inflight.catch(() => {});
    await this.syncing?.catch(() => {});
  }
}

async function writeAll(fd: number, bufs: Buffer[], at: number): Promise<void> {
  while (bufs.length) {
    const batch = bufs.splice(0, 1024); // IOV_MAX
    let n = (await fsWritev(fd, batch, at)).bytesWritten;
    at += n;
    for (let i = 0; i < batch.length; i++) { // short write: retry the remainder
      const b = batch[i]!;
      if (n >= b.length) { n -= b.length; continue; }
      bufs.unshift(b.subarray(n), ...batch.slice(i + 1));
      break;
    }
  }
}

async function readFull(fd: number, buf: Buffer, pos: number): Promise<number> {
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fsRead(fd, buf, off, buf.length - off, pos + off);
    if (!bytesRead) break;
    off += bytesRead;
  }
  return off;
}

function abortError(reason: unknown): Error {
  const e = new Error("The archive was stopped", { cause: reason });
  e.name = "AbortError";
  return e;
}

function checkName(s: ZipSource): string {
  let name = s.name;
  if (s.kind === "directory" && !name.endsWith("/")) name += "/";
  if (!name || name.startsWith("/") || name.includes("\0") || name.split("/").includes("..") || (s.kind !== "directory" && name.endsWith("/"))) {
    throw new Error(`Invalid archive entry name: ${JSON.stringify(s.name)}`);
  }
  if (Buffer.byteLength(name) > MAX16) throw new Error(`Archive entry name too long: ${name.slice(0, 80)}…`);
  return name;
}

/**
 * Usage: `add()` every entry (awaiting each: it applies backpressure), `flushEntries()` to get the
 * results so far (for the manifest), `add()` the manifest, then `finish()`. On any failure or
 * abort, `finish()` (and pending calls) reject; the output fd is closed, the file is left in place.
 */
export class ZipWriter {
  private readonly level: 0 | 1 | 6;
  private readonly chunkSize: number;
  private readonly budget: Budget;
  private readonly pool: ZlibPool;
  private readonly buffers: BufferPool;
  private readonly toWrite = new Channel<Job | null>();
  private readonly toDispatch = new Channel<Job | null>();
  private readonly records: EntryRecord[] = [];
  private readonly entries: WrittenEntry[] = [];
  private readonly skipped: SkippedEntry[] = [];
  private readonly waits = new Set<(e: unknown) => void>();
  private readonly tasks = new Set<Promise<void>>(); // dispatcher and re-streams: awaited on failure
  private readonly done: Promise<ZipWriteResult>;
  private writtenWaiters: Array<() => void> = [];
  private out?: Output;
  private error?: unknown;
  private added = 0;
  private written = 0;
  private closed = false;
  private bytesDone = 0;

  constructor(private readonly outPath: string, private readonly opts: ZipWriterOptions) {
    this.level = opts.level;
    this.chunkSize = opts.chunkSize ?? 1 << 20;
    // Slack: deflate may expand a chunk a little.
    this.buffers = new BufferPool(this.chunkSize + (64 << 10));
    const workers = opts.workers ?? Math.min(4, Math.max(2, os.availableParallelism()));
    this.pool = new ZlibPool(workers);
    // Enough to keep every worker busy (2 tasks each, 2 buffers per chunk); more bought nothing.
    const perWorker = 4 * this.buffers.size;
    this.budget = new Budget(Math.max(opts.maxInFlightBytes ?? 8 << 20, perWorker * workers), perWorker);
    const signal = opts.signal;
    if (signal) {
      if (signal.aborted) this.fail(abortError(signal.reason));
      else signal.addEventListener("abort", () => this.fail(abortError(signal.reason)), { once: true });
    }
    this.track(this.dispatch());
    this.done = this.run();
    this.done.catch(() => {}); // reported through finish()
  }

  /** Queues an entry; resolves once accepted (waits while too many entries are pending). */
  async add(source: ZipSource): Promise<void> {
    if (this.error) throw this.error;
    if (this.closed) throw new Error("ZipWriter: add() after finish()");
    const name = checkName(source);
    const size = source.kind === "file" ? source.size : source.kind === "buffer" ? source.data.length : 0;
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`Invalid size for ${name}: ${size}`);
    const job: Job = {
      index: this.added++, source, name, chunks: new Channel(),
      zip64Local: !!this.opts.forceZip64 || size >= ZIP64_LOCAL_AT, size: 0, crc: 0, sha256: EMPTY_SHA256,
    };
    this.toWrite.push(job);
    this.toDispatch.push(job);
    while (this.added - this.written > MAX_QUEUED) await this.wait(this.nextWritten());
  }

  /** Waits until every queued entry is written; returns all entries so far (e.g. for the manifest). */
  async flushEntries(): Promise<WrittenEntry[]> {
    while (this.written < this.added) await this.wait(this.nextWritten());
    if (this.error) throw this.error;
    return [...this.entries];
  }

  /** Writes the central directory, fsyncs and closes. Rejects (AbortError on stop) if anything failed. */
  finish(): Promise<ZipWriteResult> {
    if (!this.closed) {
      this.closed = true;
      this.toWrite.push(null);
      this.toDispatch.push(null);
    }
    return this.done;
  }

  abort(reason?: unknown): void { this.fail(abortError(reason)); }

  private fail(err: unknown): void {
    if (this.error) return;
    this.error = err;
    this.budget.failAll(err);
    for (const reject of this.waits) reject(err);
    this.waits.clear();
  }

  /** Awaits `p` unless the writer fails first. */
  private wait<T>(p: Promise<T>): Promise<T> {
    if (this.error) return Promise.reject(this.error);
    return new Promise<T>((resolve, reject) => {
      this.waits.add(reject);
      p.then(
        (v) => { this.waits.delete(reject); resolve(v); },
        (e) => { this.waits.delete(reject); reject(e); },
      );
    });
  }

  private track(p: Promise<void>): void {
    const t = p.catch((e) => this.fail(e));
    this.tasks.add(t);
    t.finally(() => this.tasks.delete(t));
  }

  private nextWritten(): Promise<void> { return new Promise((r) => this.writtenWaiters.push(r)); }

  private progress(currentName: string): void {
    this.opts.onProgress?.({ bytesDone: this.bytesDone, filesDone: this.written, currentName });
  }

  // ---- dispatching: hand work to the compression workers, in entry order ----------------------

  private async dispatch(): Promise<void> {
    const bufSize = this.buffers.size;
    let items: FileItem[] = [], jobs: Job[] = [], bytes = 0;
    const send = () => {
      if (!jobs.length) return;
      const reply = this.pool.files(this.level, this.chunkSize + 1, items, this.buffers.take());
      const pieces = reply.then(splitFiles);
      // The batch's buffer (and its budget) is released with its last entry. Each entry's piece is surfaced where
      // the writer awaits it; after a Stop or a failure the writer never gets to most of them, so they are marked
      // handled here (a rejection nobody handles is an error report, or the end of a process run with Node's default).
      jobs.forEach((job, i) => {
        const out = pieces.then((p) => p[i]!);
        out.catch(() => {});
        job.chunks.push({ reserved: i === jobs.length - 1 ? bufSize : 0, last: true, out });
      });
      items = []; jobs = []; bytes = 0;
    };
    for (;;) {
      let job = this.toDispatch.take();
      if (job === undefined) { send(); job = await this.wait(this.toDispatch.next()); }
      if (job === null) return send();
      if (this.error) throw this.error;
      const s = job.source;
      if (s.kind === "directory" || s.kind === "symlink") continue; // the writer needs nothing more
      const size = s.kind === "file" ? s.size : s.data.length;
      if (size > this.chunkSize) { send(); await this.stream(job); continue; }
      if (bytes + size > this.chunkSize || jobs.length >= BATCH_FILES) send(); // output fits one buffer
      if (!jobs.length) {
        const granted = this.budget.acquire(job, bufSize);
        if (granted) await this.wait(granted);
      }
      items.push(s.kind === "file" ? { path: s.path } : { data: s.data });
      jobs.push(job);
      bytes += size;
    }
  }

  /** Reads a large entry chunk by chunk (hashing in order); workers deflate the chunks in parallel. */
  private async stream(job: Job): Promise<void> {
    const s = job.source;
    if (s.kind !== "file" && s.kind !== "buffer") return;
    let fd: number | undefined;
    if (s.kind === "file") {
      try {
        fd = await this.wait(fsOpen(s.path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK));
        // Replaced since the listing by a FIFO or a device: skipped, like a vanished file, never read.
        if (!(await fsFstat(fd)).isFile()) throw Object.assign(new Error("no longer a regular file"), { code: "ENOTREG" });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? "";
        if (!SKIPPABLE.has(code)) throw e;
        if (fd !== undefined) await fsClose(fd).catch(() => {});
        fd = undefined;
        job.chunks.push({ reserved: 0, last: true, out: Promise.resolve({ pieces: [], size: 0, raw: 0, stored: true, skip: `${code}: ${(e as Error).message}` }) });
        return;
      }
    }
    try {
      const expected = s.kind === "file" ? s.size : s.data.length;
      const cap = job.zip64Local ? Number.MAX_SAFE_INTEGER : LIMIT32;
      const hash = crypto.createHash("sha256");
      let pos = 0, crc = 0;
      let dict: Buffer | undefined;
      for (let index = 0; ; index++) {
        if (this.error) throw this.error;
        // One byte more than expected at the end: a short read proves EOF without another call.
        const remaining = expected - pos;
        const want = Math.min(remaining >= 0 && remaining <= this.chunkSize ? remaining + 1 : this.chunkSize, cap - pos);
        const reserved = this.level ? 2 * this.buffers.size : this.buffers.size; // input (+ output) buffer
        const granted = this.budget.acquire(job, reserved);
        if (granted) await this.wait(granted);
        const ab = this.buffers.take();
        const view = Buffer.from(ab, 0, want);
        const n = fd === undefined ? (s as { data: Buffer }).data.copy(view, 0, pos, pos + want) : await readFull(fd, view, pos);
        if (this.error) throw this.error;
        const data = view.subarray(0, n);
        const last = n < want || pos + n >= cap;
        crc = zlib.crc32(data, crc);
        hash.update(data);
        pos += n;
        if (last) Object.assign(job, { size: pos, crc, sha256: hash.digest("hex") });
        const whole = index === 0 && last;
        const prevDict = dict;
        if (!last && this.level) dict = Buffer.from(data.subarray(Math.max(0, n - DICT_SIZE))); // copy before the transfer
        const chunk: Chunk = { reserved, last, out: undefined! };
        chunk.out = this.level === 0 || n === 0
          ? Promise.resolve({ ...rawPiece(data, this.level === 0 || whole, last), recycle: [ab] })
          : this.deflateChunk(chunk, ab, data, whole, prevDict);
        chunk.out.catch(() => {});
        job.chunks.push(chunk);
        if (last) return;
      }
    } finally {
      if (fd !== undefined) await fsClose(fd).catch(() => {});
    }
  }

  private async deflateChunk(chunk: Chunk, ab: ArrayBuffer, data: Buffer, whole: boolean, dict?: Buffer): Promise<Piece> {
    const n = data.length, last = chunk.last;
    const r = await this.pool.chunk(this.level, ab, n, last, this.buffers.take(), whole ? undefined : dict);
    chunk.reserved -= this.buffers.size; // one of the two buffers is free again
    this.budget.release(this.buffers.size);
    if (r.stored || (whole && r.len >= n)) { // written as is (stored entry, or stored deflate blocks)
      this.buffers.give(r.out);
      return { ...rawPiece(Buffer.from(r.buf, 0, n), whole, last), recycle: [r.buf] };
    }
    this.buffers.give(r.buf);
    return { pieces: [Buffer.from(r.out, 0, r.len)], size: r.len, raw: n, stored: false, recycle: [r.out] };
  }

  // ---- writing: strictly in order -----------------------------------------------------------

  private async run(): Promise<ZipWriteResult> {
    let fd: number | undefined;
    try {
      // Not raced with an abort: the fd must not leak. The archive is readable by the server's user only (0600, also
      // when a leftover file had other bits), and never written through a link planted at its name.
      const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = fs.constants;
      fd = await fsOpen(this.outPath, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, PRIVATE_FILE_MODE).catch((e: NodeJS.ErrnoException) => {
        throw e.code === "ELOOP" ? linkRefused(this.outPath) : e;
      });
      await fsFchmod(fd, PRIVATE_FILE_MODE);
      if (this.error) throw this.error;
      this.out = new Output(fd, (e) => this.fail(e));
      for (;;) {
        const job = await this.wait(this.toWrite.next());
        if (!job) break;
        this.budget.setHead(job);
        await this.writeJob(job);
        this.written++;
        this.progress(job.name);
        for (const w of this.writtenWaiters.splice(0)) w();
      }
      const out = this.out;
      const cdOffset = out.position;
      for (const r of this.records) {
        out.push(centralHeader(r, this.opts.forceZip64));
        await this.wait(out.maybeFlush());
      }
      out.push(endRecords(this.records.length, cdOffset, out.position - cdOffset, this.opts.forceZip64));
      await this.wait(out.finish());
      const closing = fd;
      fd = undefined;
      await fsClose(closing);
      await this.pool.close();
      return { entries: this.entries, skipped: this.skipped, archiveSize: out.position, archiveSha256: out.hash.digest("hex") };
    } catch (e) {
      this.fail(e);
      await this.out?.settle(); // never close the fd under a write in flight
      if (fd !== undefined) await fsClose(fd).catch(() => {});
      await Promise.allSettled([...this.tasks]); // their files are closed too
      await this.pool.close().catch(() => {});
      throw this.error;
    }
  }

  /** Gives the piece's pool buffers back once what was pushed from them is on disk. */
  private recycle(piece: Piece): void {
    const bufs = piece.recycle;
    if (bufs) this.out!.afterWrite(() => { for (const b of bufs) this.buffers.give(b); });
  }

  private async writeJob(job: Job): Promise<void> {
    const s = job.source;
    const out = this.out!;
    const offset = out.position;
    const base = { name: Buffer.from(job.name), mtime: s.mtime, flags: FLAG_UTF8, zip64Local: job.zip64Local };
    let rec: EntryRecord;
    if (s.kind === "directory" || s.kind === "symlink") {
      const data = s.kind === "symlink" ? Buffer.from(s.target) : Buffer.alloc(0);
      const crc = zlib.crc32(data);
      rec = { ...base, method: METHOD_STORED, crc, size: data.length, compressedSize: data.length, offset,
        externalAttrs: s.kind === "symlink" ? unixAttrs.symlink() : unixAttrs.directory(s.mode) };
      out.push(localHeader(rec));
      out.push(data);
      this.bytesDone += data.length;
      job.sha256 = crypto.createHash("sha256").update(data).digest("hex");
    } else {
      const attrs = unixAttrs.file(s.kind === "file" ? s.mode : (s.mode ?? 0o644));
      let chunk = await this.wait(job.chunks.next());
      let piece = await this.wait(chunk.out);
      if (piece.grew) { // listed small, now bigger than a chunk: stream it after all
        this.recycle(piece);
        this.budget.release(chunk.reserved);
        this.track(this.stream(job));
        chunk = await this.wait(job.chunks.next());
        piece = await this.wait(chunk.out);
      }
      if (piece.skip !== undefined) {
        this.recycle(piece);
        this.budget.release(chunk.reserved);
        this.skipped.push({ name: job.name, path: s.kind === "file" ? s.path : "", error: piece.skip });
        return;
      }
      if (chunk.last) {
        // Whole entry in one piece: sizes and CRC are known, so they go in the local header.
        if (piece.crc !== undefined) Object.assign(job, { size: piece.raw, crc: piece.crc, sha256: piece.sha256 });
        rec = { ...base, method: piece.stored ? METHOD_STORED : METHOD_DEFLATE, crc: job.crc, size: job.size, compressedSize: piece.size, offset, externalAttrs: attrs };
        out.push(localHeader(rec));
        for (const p of piece.pieces) out.push(p);
        this.recycle(piece);
        this.budget.release(chunk.reserved);
        this.bytesDone += piece.raw;
        if (this.opts.pace) await this.wait(this.opts.pace(piece.raw));
      } else {
        // Streamed: sizes and CRC follow in a data descriptor.
        const method = this.level ? METHOD_DEFLATE : METHOD_STORED;
        const head = { ...base, flags: FLAG_UTF8 | FLAG_DESCRIPTOR, method, crc: 0, size: 0, compressedSize: 0 };
        out.push(localHeader(head));
        let compressedSize = 0;
        for (;;) {
          for (const p of piece.pieces) out.push(p);
          this.recycle(piece);
          compressedSize += piece.size;
          this.budget.release(chunk.reserved);
          this.bytesDone += piece.raw;
          await this.wait(out.maybeFlush());
          this.progress(job.name);
          if (this.opts.pace) await this.wait(this.opts.pace(piece.raw));
          if (chunk.last) break;
          chunk = await this.wait(job.chunks.next());
          piece = await this.wait(chunk.out);
        }
        out.push(dataDescriptor(job.crc, compressedSize, job.size, job.zip64Local));
        rec = { ...head, crc: job.crc, size: job.size, compressedSize, offset, externalAttrs: attrs };
      }
    }
    this.records.push(rec);
    this.entries.push({ name: job.name, kind: s.kind, size: rec.size, compressedSize: rec.compressedSize, crc32: rec.crc, sha256: job.sha256 });
    await this.wait(out.maybeFlush());
  }
}

/** Raw bytes as a piece: the entry's data (`whole`: stored entry) or deflate stored blocks. */
function rawPiece(data: Buffer, whole: boolean, last: boolean): Piece {
  const pieces = whole ? [data] : storedBlocks(data, last);
  return { pieces, size: pieces.reduce((t, p) => t + p.length, 0), raw: data.length, stored: true };
}

/** One piece per file of a batch; the last one returns the shared buffer to the pool. */
function splitFiles(reply: FilesReply): Piece[] {
  const buf = Buffer.from(reply.out);
  let off = 0;
  const pieces = reply.results.map((r): Piece => {
    if (r.skip !== undefined) return { pieces: [], size: 0, raw: 0, stored: true, skip: r.skip };
    if (r.grew) return { pieces: [], size: 0, raw: 0, stored: true, grew: true };
    const data = buf.subarray(off, off + r.len);
    off += r.len;
    return { pieces: [data], size: r.len, raw: r.size, stored: r.stored, crc: r.crc, sha256: r.sha256 };
  });
  pieces[pieces.length - 1]!.recycle = [reply.out];
  return pieces;
}
