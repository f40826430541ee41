// Reading archives back: listing, reading one entry, and verifying against the manifest. yauzl parses
// and validates the central directory; verification reads the data itself in large spans and lets
// the worker pool inflate and hash (yauzl's per-entry streams cost ~3x the CPU on small entries).
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import zlib from "node:zlib";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import yauzl from "yauzl";
import { assertRegular } from "../fs/safe-open";
import { BufferPool, ZlibPool, type CheckItem, type CheckResult } from "./compress";

export interface ListedEntry {
  name: string;
  kind: "file" | "directory" | "symlink";
  size: number;
  compressedSize: number;
  crc32: number;
  mode: number;
  mtime: Date;
}
export interface ExpectedEntry { name: string; size: number; sha256: string }
export type VerifyResult = { ok: true } | { ok: false; problems: string[] };
export interface VerifyOptions {
  signal?: AbortSignal;
  onProgress?: (p: { bytesDone: number; filesDone: number; currentName: string }) => void;
  /** Worker threads inflating and hashing. Default: cores, at least 2, at most 4. */
  workers?: number;
}

/**
 * yauzl reads the central directory and local headers with one tiny read each (thousands of
 * threadpool round trips, ~0.5 s for 6,000 entries); serve those from a few cached windows
 * instead, and stream entry data with large reads.
 */
export class CachedReader extends yauzl.RandomAccessReader {
  private windows: Array<{ pos: number; buf: Buffer }> = [];
  private reading = 0; // reads in flight: the fd is closed only after them
  private onIdle?: () => void;
  /** `ownsFd: false`: the caller keeps the descriptor and closes it; closing the zip leaves it open. */
  constructor(private readonly fd: number, private readonly ownsFd = true) { super(); }

  /** Positional read; also used by the range streams. */
  pread(buf: Buffer, pos: number, cb: (err: Error | null, n: number) => void): void {
    this.reading++;
    fs.read(this.fd, buf, 0, buf.length, pos, (err, n) => {
      if (--this.reading === 0) this.onIdle?.();
      cb(err, n);
    });
  }
  override _readStreamForRange(start: number, end: number): Readable {
    let pos = start;
    const reader = this;
    return new Readable({
      highWaterMark: 1 << 20,
      read() {
        const len = Math.min(1 << 20, end - pos);
        if (len <= 0) return void this.push(null);
        const buf = Buffer.allocUnsafe(len);
        reader.pread(buf, pos, (err, n) => {
          if (err || !n) return void this.destroy(err ?? new Error("unexpected end of archive"));
          pos += n;
          this.push(n < len ? buf.subarray(0, n) : buf);
        });
      },
    });
  }
  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    const hit = this.windows.find((w) => position >= w.pos && position + length <= w.pos + w.buf.length);
    if (hit) {
      hit.buf.copy(buffer, offset, position - hit.pos, position - hit.pos + length);
      return callback(null);
    }
    const buf = Buffer.allocUnsafe(Math.max(length, WINDOW));
    this.pread(buf, position, (err, n) => {
      if (err) return callback(err);
      if (n < length) return callback(new Error("unexpected end of archive"));
      this.windows.unshift({ pos: position, buf: buf.subarray(0, n) });
      this.windows.length = Math.min(this.windows.length, 4);
      this.read(buffer, offset, length, position, callback);
    });
  }
  override close(callback: (err: Error | null) => void): void {
    const close = () => (this.ownsFd ? fs.close(this.fd, (err) => callback(err)) : callback(null));
    if (this.reading) this.onIdle = close;
    else close();
  }
}
const WINDOW = 256 << 10;

/**
 * Opens an archive file for reading: a regular file only (a link to one is fine), opened O_NONBLOCK so that a FIFO
 * or a device under an archive's name is refused at once rather than hanging a threadpool thread. Returns the fd.
 */
async function openArchiveFd(path: string): Promise<{ fd: number; size: number }> {
  const fd = await promisify(fs.open)(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const st = await promisify(fs.fstat)(fd);
    assertRegular(path, st, "an archive file");
    return { fd, size: st.size };
  } catch (e) {
    fs.close(fd, () => {});
    throw e;
  }
}

async function openZip(path: string): Promise<yauzl.ZipFile> {
  const { fd, size } = await openArchiveFd(path);
  try {
    return await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.fromRandomAccessReader(new CachedReader(fd), size, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true, strictFileNames: false }, (err, zip) => (err ? reject(err) : resolve(zip))),
    );
  } catch (e) {
    fs.close(fd, () => {});
    throw e;
  }
}

function describe(e: yauzl.Entry): ListedEntry {
  const unixMode = (e.versionMadeBy >> 8) === 3 ? e.externalFileAttributes >>> 16 : 0;
  const type = unixMode & 0o170000;
  const kind = type === 0o120000 ? "symlink" : type === 0o040000 || e.fileName.endsWith("/") ? "directory" : "file";
  return { name: e.fileName, kind, size: e.uncompressedSize, compressedSize: e.compressedSize, crc32: e.crc32, mode: unixMode & 0o7777, mtime: e.getLastModDate() };
}

/** Calls `onEntry` for each central directory entry, in order; waits for it before reading the next. */
async function eachEntry(zip: yauzl.ZipFile, onEntry: (e: yauzl.Entry) => Promise<void> | void): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    zip.on("error", reject);
    zip.on("end", () => resolve());
    zip.on("entry", (e: yauzl.Entry) => {
      // A throw from onEntry becomes a rejection here, never an exception out of yauzl's event.
      new Promise<void>((r) => r(onEntry(e))).then(() => zip.readEntry(), reject);
    });
    zip.readEntry();
  });
}

export async function listEntries(path: string): Promise<ListedEntry[]> {
  const zip = await openZip(path);
  const out: ListedEntry[] = [];
  try {
    await eachEntry(zip, (e) => { out.push(describe(e)); });
  } finally {
    zip.close();
  }
  return out;
}

/** Entry content stream. Inflated here rather than by yauzl: bigger zlib chunks, far fewer round trips. */
function openStream(zip: yauzl.ZipFile, e: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) =>
    zip.openReadStream(e, { decodeFileData: false }, (err, raw) => {
      if (err) return reject(err);
      if (e.compressionMethod === 0) return resolve(raw);
      if (e.compressionMethod !== 8) return reject(new Error(`unsupported compression method ${e.compressionMethod}`));
      const inflate = zlib.createInflateRaw({ chunkSize: 256 << 10 });
      raw.on("error", (er) => inflate.destroy(er));
      inflate.on("close", () => raw.destroy());
      resolve(raw.pipe(inflate));
    }),
  );
}

/**
 * The uncompressed content of entry `name` (the tests read entries back with it; the server reads manifests through
 * readArchiveManifest, which caps them). Inflating stops past the size the central directory records.
 */
export async function readEntry(path: string, name: string): Promise<Buffer> {
  const zip = await openZip(path);
  let found: Buffer | undefined;
  try {
    await eachEntry(zip, async (e) => {
      if (found || e.fileName !== name) return;
      const parts: Buffer[] = [];
      let total = 0;
      for await (const b of await openStream(zip, e)) {
        total += (b as Buffer).length;
        if (total > e.uncompressedSize) throw new Error(`${name}: inflates to more than the ${e.uncompressedSize} bytes recorded`);
        parts.push(b as Buffer);
      }
      found = Buffer.concat(parts);
    });
  } finally {
    zip.close();
  }
  if (!found) throw new Error(`${name}: not in the archive`);
  return found;
}

function abortError(reason: unknown): Error {
  const e = new Error("Verification was stopped", { cause: reason });
  e.name = "AbortError";
  return e;
}

const SPAN = 1 << 20; // consecutive small entries are read and checked together, up to this span
const WHOLE_MAX = 8 << 20; // larger (uncompressed) entries are streamed rather than inflated in one go

/**
 * Reads every entry back and checks it against `expected` (size, CRC-32 and SHA-256). Any other
 * non-directory entry than those and `manifest.json` is a problem too. yauzl parses the central
 * directory; the data is read in large spans and inflated/hashed by worker threads (small entries)
 * or streamed (large ones). Resolves with the problems found; rejects only on abort.
 */
export async function verifyArchive(path: string, expected: ExpectedEntry[], opts: VerifyOptions = {}): Promise<VerifyResult> {
  const signal = opts.signal;
  const checkAbort = () => { if (signal?.aborted) throw abortError(signal.reason); };
  checkAbort();
  const problems: string[] = [];
  let all: yauzl.Entry[];
  try {
    const zip = await openZip(path);
    all = [];
    try { await eachEntry(zip, (e) => { all.push(e); }); } finally { zip.close(); }
  } catch (e) {
    return { ok: false, problems: [`archive unreadable: ${(e as Error).message}`] };
  }
  const wanted = new Map(expected.map((e) => [e.name, e]));
  const seen = new Set<string>();
  for (const e of all) {
    if (seen.has(e.fileName)) problems.push(`${e.fileName}: duplicate entry`);
    seen.add(e.fileName);
    if (!wanted.has(e.fileName) && !e.fileName.endsWith("/") && e.fileName !== "manifest.json") problems.push(`${e.fileName}: unexpected entry`);
  }
  for (const name of wanted.keys()) if (!seen.has(name)) problems.push(`${name}: missing`);

  // In archive order; each entry must end before the next one's local header.
  all.sort((a, b) => a.relativeOffsetOfLocalHeader - b.relativeOffsetOfLocalHeader);
  let opened: { fd: number; size: number };
  try {
    opened = await openArchiveFd(path);
  } catch (e) {
    return { ok: false, problems: [`archive unreadable: ${(e as Error).message}`] };
  }
  const { fd, size: fileSize } = opened;
  const workers = opts.workers ?? Math.min(4, Math.max(2, os.availableParallelism()));
  const pool = new ZlibPool(workers);
  const buffers = new BufferPool(SPAN);
  const pread = (buf: Buffer, pos: number) => promisify(fs.read)(fd, buf, 0, buf.length, pos).then((r) => r.bytesRead);
  let bytesDone = 0, filesDone = 0;
  const judge = (e: yauzl.Entry, r: CheckResult) => {
    const want = wanted.get(e.fileName)!;
    filesDone++;
    bytesDone += want.size;
    if (r.error !== undefined) problems.push(`${e.fileName}: unreadable (${r.error})`);
    else if (r.size !== want.size) problems.push(`${e.fileName}: size ${r.size}, expected ${want.size}`);
    else if (r.crc !== e.crc32) problems.push(`${e.fileName}: CRC-32 mismatch`);
    else if (r.sha256 !== want.sha256) problems.push(`${e.fileName}: SHA-256 mismatch`);
    opts.onProgress?.({ bytesDone, filesDone, currentName: e.fileName });
  };
  const inflight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => { inflight.add(p); p.finally(() => inflight.delete(p)).catch(() => {}); };
  let large = Promise.resolve(); // large entries one after the other, alongside the batches

  try {
    for (let i = 0; i < all.length; ) {
      checkAbort();
      const bound = (k: number) => (k + 1 < all.length ? all[k + 1]!.relativeOffsetOfLocalHeader : fileSize);
      const first = all[i]!, from = first.relativeOffsetOfLocalHeader;
      if (!wanted.has(first.fileName)) { i++; continue; }
      if (bound(i) - from > SPAN || first.uncompressedSize > WHOLE_MAX) {
        const e = first, end = bound(i);
        large = large.then(() => streamEntry(e, end)).then((r) => judge(e, r));
        track(large);
        i++;
        continue;
      }
      // Batch the following entries that fit in one span (others in between just ride along).
      const items: CheckItem[] = [], batch: yauzl.Entry[] = [];
      let j = i;
      for (; j < all.length && bound(j) - from <= SPAN; j++) {
        const e = all[j]!;
        if (!wanted.has(e.fileName)) continue;
        if (e.uncompressedSize > WHOLE_MAX) break;
        items.push({ at: e.relativeOffsetOfLocalHeader - from, csize: e.compressedSize, size: e.uncompressedSize, method: e.compressionMethod });
        batch.push(e);
      }
      const ab = buffers.take();
      const n = await pread(Buffer.from(ab, 0, bound(j - 1) - from), from);
      track(pool.check(ab, n, items).then((reply) => {
        buffers.give(reply.buf);
        reply.results.forEach((r, k) => judge(batch[k]!, r));
      }));
      i = j;
      while (inflight.size > 2 * workers + 1) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  } catch (err) {
    await Promise.allSettled(inflight);
    if (signal?.aborted) throw abortError(signal.reason);
    problems.push(`archive unreadable: ${(err as Error).message}`);
  } finally {
    await pool.close().catch(() => {});
    await promisify(fs.close)(fd).catch(() => {});
  }
  return problems.length ? { ok: false, problems } : { ok: true };

  /** Streams one entry's data through inflate (threadpool) and the hashes, in 1 MiB reads. */
  async function streamEntry(e: yauzl.Entry, end: number): Promise<CheckResult> {
    try {
      const h = Buffer.alloc(30);
      await pread(h, e.relativeOffsetOfLocalHeader);
      if (h.readUInt32LE(0) !== 0x04034b50) return { error: "bad local header" };
      let pos = e.relativeOffsetOfLocalHeader + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
      const stop = pos + e.compressedSize;
      if (stop > end) return { error: "data runs into the next entry" };
      if (e.compressionMethod !== 0 && e.compressionMethod !== 8) return { error: `unsupported compression method ${e.compressionMethod}` };
      const hash = crypto.createHash("sha256");
      let size = 0, crc = 0;
      const tooLong = () => new Error(`inflates to more than the ${e.uncompressedSize} bytes recorded`);
      const take = (b: Buffer) => {
        size += b.length;
        // Past the recorded size (a zip bomb, or damage): stop inflating. Never a throw from the 'data' event.
        if (size > e.uncompressedSize) return void inflate?.destroy(tooLong());
        hash.update(b);
        crc = zlib.crc32(b, crc);
      };
      const inflate = e.compressionMethod === 8 ? zlib.createInflateRaw({ chunkSize: 256 << 10 }) : undefined;
      const done = inflate ? new Promise<void>((resolve, reject) => inflate.on("data", take).on("end", resolve).on("error", reject)) : undefined;
      done?.catch(() => {});
      const buf = Buffer.allocUnsafe(Math.min(1 << 20, stop - pos)); // reused: each write is consumed before the next read
      try {
        while (pos < stop) {
          checkAbort();
          const n = await pread(buf.subarray(0, Math.min(buf.length, stop - pos)), pos);
          if (!n) return { error: "unexpected end of archive" };
          pos += n;
          const b = buf.subarray(0, n);
          if (!inflate) {
            take(b);
            if (size > e.uncompressedSize) return { error: tooLong().message };
          }
          else await Promise.race([new Promise<void>((r, j) => inflate.write(b, (err) => (err ? j(err) : r()))), done]);
        }
        inflate?.end();
        await done;
      } finally {
        inflate?.destroy();
      }
      return { size, crc, sha256: hash.digest("hex") };
    } catch (err) {
      if (signal?.aborted) throw err;
      return { error: (err as Error).message };
    }
  }
}
