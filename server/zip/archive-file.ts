// An archive opened for restoring: its central directory read by yauzl with name decoding off, so that every
// name is judged by our own rules (entry-checks.ts) and a crafted one is reported by name rather than failing the
// listing; and each entry's data read by positional reads bounded by the next entry, inflated off the event loop.
import { constants } from "node:fs";
import fs from "node:fs/promises";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import zlib from "node:zlib";
import yauzl from "yauzl";
import { assertRegular } from "../fs/safe-open";
import { CachedReader } from "./zip-reader";

export interface ArchiveEntry {
  /** The entry's name as the archive spells it (UTF-8, or CP437 without the UTF-8 flag), unchecked. */
  name: string;
  rawName: Buffer;
  kind: "file" | "directory" | "symlink";
  /** Permission bits from the Unix attributes; 0 when the archive has none. */
  mode: number;
  method: number;
  flags: number;
  size: number;
  compressedSize: number;
  crc32: number;
  /** Offset of the local header. */
  offset: number;
  /** The next entry's local header or the central directory: this entry's data must end before it. */
  limit: number;
}

export interface OpenedArchive {
  path: string;
  size: number;
  entries: ArchiveEntry[];
  /** Streams the uncompressed data of `entry` into `sink`, one chunk at a time (each awaited). */
  read(entry: ArchiveEntry, sink: (chunk: Buffer) => Promise<void> | void, opts?: { signal?: AbortSignal }): Promise<void>;
  /** The whole uncompressed content, refused beyond `maxBytes` (checked while inflating: no zip bomb). */
  readAll(entry: ArchiveEntry, maxBytes: number, opts?: { signal?: AbortSignal }): Promise<Buffer>;
  close(): Promise<void>;
}

/** Why an entry's data could not be read: damage in the archive, as opposed to a problem writing the copy. */
export class EntryDataError extends Error {
  constructor(readonly entry: string, readonly reason: string) {
    super(`${entry}: ${reason}`);
    this.name = "EntryDataError";
  }
}

const S_IFMT = 0o170000, S_IFDIR = 0o040000, S_IFLNK = 0o120000;
const FLAG_ENCRYPTED = 1;
/** Reads of this size keep a Stop within a second on any disk, and a large entry's memory bounded. */
const READ_SIZE = 1 << 20;
/**
 * Entries whose compressed data and declared size fit these are read and inflated whole (one read, no stream); the
 * output bound keeps memory small whatever the ratio (deflate reaches ~1000:1, so 1 MiB could otherwise become 1 GB).
 */
const SMALL_ENTRY = 1 << 20;
const SMALL_ENTRY_OUT = 8 << 20;
/** Room for the local header's extra fields in that one read (Strongbox writes 9 or 29 bytes). */
const HEADER_EXTRA_GUESS = 64;
const inflateRaw = promisify(zlib.inflateRaw) as (buf: Buffer, opts: zlib.ZlibOptions) => Promise<Buffer>;

function kindOf(e: yauzl.Entry, name: string): { kind: ArchiveEntry["kind"]; mode: number } {
  const unix = e.versionMadeBy >> 8 === 3 ? e.externalFileAttributes >>> 16 : 0;
  const type = unix & S_IFMT;
  const kind = type === S_IFLNK ? "symlink" : type === S_IFDIR || name.endsWith("/") ? "directory" : "file";
  return { kind, mode: unix & 0o7777 };
}

/**
 * Opens an archive the user named. It must be a regular file (a link to one is fine: the archive is the user's
 * choice, not a file the server owns); a FIFO or a device is refused at once — opened O_NONBLOCK, so a FIFO with no
 * writer can't hang the open — and the central directory is read from that same descriptor.
 */
export async function openArchive(path: string): Promise<OpenedArchive> {
  const fh = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    assertRegular(path, st, "an archive file");
    const entries = await listCentralDirectory(fh.fd, st.size);
    return makeArchive(path, fh, st.size, entries);
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}

async function listCentralDirectory(fd: number, size: number): Promise<ArchiveEntry[]> {
  const zip = await promisify<yauzl.RandomAccessReader, number, yauzl.Options, yauzl.ZipFile>(yauzl.fromRandomAccessReader)(new CachedReader(fd, false), size, {
    lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: true,
  });
  // Before the first readEntry, yauzl's cursor is the central directory's offset: the last entry's data ends there.
  const centralDirectory = zip.readEntryCursor as unknown as number;
  const raw: yauzl.Entry[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on("error", reject);
      zip.on("end", () => resolve());
      zip.on("entry", (e: yauzl.Entry) => { raw.push(e); zip.readEntry(); });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  const offsets = [...new Set(raw.map((e) => e.relativeOffsetOfLocalHeader))].sort((a, b) => a - b);
  const nextOffset = new Map(offsets.map((o, i) => [o, offsets[i + 1] ?? centralDirectory]));
  return raw.map((e) => {
    const rawName = e.fileNameRaw;
    const name = yauzl.getFileNameLowLevel(e.generalPurposeBitFlag, rawName, e.extraFields, true);
    const next = nextOffset.get(e.relativeOffsetOfLocalHeader)!;
    return {
      name, rawName, ...kindOf(e, name), method: e.compressionMethod, flags: e.generalPurposeBitFlag,
      size: e.uncompressedSize, compressedSize: e.compressedSize, crc32: e.crc32,
      offset: e.relativeOffsetOfLocalHeader, limit: next,
    };
  });
}

function makeArchive(path: string, fh: fs.FileHandle, size: number, entries: ArchiveEntry[]): OpenedArchive {
  /** Checks an entry's local header (`h`, at least 30 bytes + its name) against the central directory; returns where its data starts. */
  function dataStart(e: ArchiveEntry, h: Buffer): number {
    if (h.length < 30 + e.rawName.length || h.readUInt32LE(0) !== 0x04034b50) throw new EntryDataError(e.name, "bad local header (the archive is damaged)");
    // A local name that differs from the central directory's is a classic trick to fool one reader or the other.
    if (h.readUInt16LE(26) !== e.rawName.length || !h.subarray(30, 30 + e.rawName.length).equals(e.rawName)) {
      throw new EntryDataError(e.name, "its local header names another entry (the archive is damaged or crafted)");
    }
    const start = e.offset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
    if (start + e.compressedSize > e.limit) throw new EntryDataError(e.name, "its data runs into the next entry (the archive is damaged or crafted)");
    return start;
  }

  function checkSupported(e: ArchiveEntry): void {
    if (e.flags & FLAG_ENCRYPTED) throw new EntryDataError(e.name, "encrypted entries are not supported");
    if (e.method !== 0 && e.method !== 8) throw new EntryDataError(e.name, `unsupported compression method ${e.method}`);
    if (e.limit < e.offset + 30) throw new EntryDataError(e.name, "its local header lies outside the archive's data (the archive is damaged or crafted)");
  }

  async function pread(length: number, position: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await fh.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  }

  async function* compressed(e: ArchiveEntry, start: number, signal?: AbortSignal): AsyncGenerator<Buffer> {
    const stop = start + e.compressedSize;
    for (let pos = start; pos < stop; ) {
      signal?.throwIfAborted();
      const buf = Buffer.allocUnsafe(Math.min(READ_SIZE, stop - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) throw new EntryDataError(e.name, "the archive ends in the middle of this entry (truncated)");
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  }

  async function read(e: ArchiveEntry, sink: (chunk: Buffer) => Promise<void> | void, opts: { signal?: AbortSignal } = {}): Promise<void> {
    checkSupported(e);
    opts.signal?.throwIfAborted();
    if (e.compressedSize <= SMALL_ENTRY && e.size <= SMALL_ENTRY_OUT) return readSmall(e, sink, opts.signal);
    const start = dataStart(e, await pread(30 + e.rawName.length, e.offset));
    const source = Readable.from(compressed(e, start, opts.signal), { objectMode: false });
    let produced = 0;
    const out = new Writable({
      highWaterMark: READ_SIZE,
      write(chunk: Buffer, _enc, cb) {
        // Past the size the central directory records: damage, or a zip bomb. Stopped here, not inflated to the end.
        produced += chunk.length;
        if (produced > e.size) return cb(new EntryDataError(e.name, `inflates to more than the ${e.size} bytes recorded (the archive is damaged or crafted)`));
        // Whatever the sink does — throw at once or reject later — reaches `cb`, and so the pipeline: an exception
        // thrown out of a stream callback would escape every caller and leave the operation waiting for ever.
        new Promise<void>((resolve) => resolve(sink(chunk))).then(() => cb(), cb);
      },
    });
    try {
      if (e.method === 8) await pipeline(source, zlib.createInflateRaw({ chunkSize: 256 << 10 }), out, { signal: opts.signal });
      else await pipeline(source, out, { signal: opts.signal });
    } catch (err) {
      if (opts.signal?.aborted || !isZlibError(err)) throw err;
      throw new EntryDataError(e.name, `its compressed data is damaged (${(err as Error).message})`);
    }
  }

  /**
   * Small entries (most of an archive's entries) in one read and one inflate on the threadpool: a stream per entry
   * costs about a millisecond each. The output is capped just past the declared size, so no entry can balloon.
   */
  async function readSmall(e: ArchiveEntry, sink: (chunk: Buffer) => Promise<void> | void, signal?: AbortSignal): Promise<void> {
    const guess = 30 + e.rawName.length + HEADER_EXTRA_GUESS + e.compressedSize;
    let span = await pread(Math.min(guess, e.limit - e.offset), e.offset);
    const start = dataStart(e, span) - e.offset;
    if (start + e.compressedSize > span.length) span = await pread(start + e.compressedSize, e.offset); // a long extra field
    if (start + e.compressedSize > span.length) throw new EntryDataError(e.name, "the archive ends in the middle of this entry (truncated)");
    const data = span.subarray(start, start + e.compressedSize);
    let out = data;
    const tooLong = () => new EntryDataError(e.name, `inflates to more than the ${e.size} bytes recorded (the archive is damaged or crafted)`);
    if (e.method === 8) {
      try {
        out = await inflateRaw(data, { maxOutputLength: e.size + 1 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw tooLong();
        throw new EntryDataError(e.name, `its compressed data is damaged (${(err as Error).message})`);
      }
      if (out.length > e.size) throw tooLong();
    }
    signal?.throwIfAborted();
    if (out.length) await sink(out);
  }

  async function readAll(e: ArchiveEntry, maxBytes: number, opts: { signal?: AbortSignal } = {}): Promise<Buffer> {
    // The declared size first: nothing is inflated for an entry that says it is too large.
    if (e.size > maxBytes) throw new EntryDataError(e.name, `declares ${e.size} bytes, more than the ${maxBytes} allowed for it`);
    const parts: Buffer[] = [];
    let total = 0;
    await read(e, (b) => {
      total += b.length;
      if (total > maxBytes) throw new EntryDataError(e.name, `larger than ${maxBytes} bytes`);
      parts.push(b);
    }, opts);
    return Buffer.concat(parts);
  }

  return { path, size, entries, read, readAll, close: () => fh.close() };
}

function isZlibError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === "string" && code.startsWith("Z_");
}
