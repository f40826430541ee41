// Test-only: hand-made archives (a crafted ZIP the engine's writer would refuse to produce) and byte surgery on
// real ones, for the restore and verification tests.
import crypto from "node:crypto";
import fs from "node:fs";
import zlib from "node:zlib";
import yauzl from "yauzl";
import type { Manifest, ManifestEntry } from "../archive/manifest";
import { centralHeader, endRecords, localHeader, unixAttrs, FLAG_UTF8, METHOD_DEFLATE, METHOD_STORED, type EntryRecord } from "../zip/zip-format";

export interface RawEntry {
  name: string;
  kind?: "file" | "directory" | "symlink";
  /** File content, or a link's target. */
  data?: string | Buffer;
  mode?: number;
  /** Deflates the data and declares this uncompressed size instead of the real one (zip64 when large). */
  declaredSize?: number;
  /** The entry's data as stored, already deflated (a zip bomb made once); `declaredSize` says what it claims. */
  deflated?: Buffer;
  /** The compressed size the headers claim instead of the real one (a central directory that lies). */
  declaredCompressedSize?: number;
  /** The central directory points this entry at the previous entry's local header (entries overlapping). */
  overlapPrevious?: boolean;
}

/** Writes a stored (uncompressed) ZIP with exactly these names, whatever they are. */
export function writeRawZip(file: string, entries: RawEntry[]): void {
  const parts: Buffer[] = [];
  const records: EntryRecord[] = [];
  let offset = 0;
  const mtime = new Date("2026-01-02T03:04:05Z");
  for (const e of entries) {
    const kind = e.kind ?? "file";
    const content = Buffer.from(e.data ?? "");
    const deflate = e.declaredSize !== undefined || e.deflated !== undefined;
    const data = e.deflated ?? (deflate ? zlib.deflateRawSync(content) : content);
    const rec: EntryRecord = {
      name: Buffer.from(e.name), flags: FLAG_UTF8, method: deflate ? METHOD_DEFLATE : METHOD_STORED,
      mtime, crc: zlib.crc32(content), compressedSize: e.declaredCompressedSize ?? data.length, size: e.declaredSize ?? content.length, offset,
      zip64Local: (e.declaredSize ?? 0) >= 0xffffffff,
      externalAttrs: kind === "symlink" ? unixAttrs.symlink() : kind === "directory" ? unixAttrs.directory(e.mode ?? 0o755) : unixAttrs.file(e.mode ?? 0o644),
    };
    const head = localHeader(rec);
    parts.push(head, data);
    offset += head.length + data.length;
    records.push(e.overlapPrevious && records.length ? { ...rec, offset: records.at(-1)!.offset } : rec);
  }
  const central = Buffer.concat(records.map((r) => centralHeader(r)));
  parts.push(central, endRecords(records.length, offset, central.length));
  fs.writeFileSync(file, Buffer.concat(parts));
}

/**
 * Raw deflate data that inflates to `bytes` zeros, made without deflating them all: one 16 MiB block of zeros,
 * sync-flushed (so it stands alone), repeated, then an empty final block. A zip bomb for the readers' caps.
 */
export function zerosBomb(bytes: number): Buffer {
  const piece = 16 << 20;
  const block = zlib.deflateRawSync(Buffer.alloc(Math.min(piece, bytes)), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const parts = Array.from({ length: Math.floor(bytes / piece) }, () => block);
  const rest = bytes % piece;
  if (rest && bytes > piece) parts.push(zlib.deflateRawSync(Buffer.alloc(rest), { finishFlush: zlib.constants.Z_SYNC_FLUSH }));
  if (bytes <= piece) parts.splice(0, parts.length, block);
  return Buffer.concat([...parts, Buffer.from([0x03, 0x00])]);
}

export const sha256 = (data: string | Buffer) => crypto.createHash("sha256").update(data).digest("hex");

export function manifestEntry(e: RawEntry): ManifestEntry {
  const data = Buffer.from(e.data ?? "");
  return { path: e.name, originalPath: "/nowhere/" + e.name, kind: e.kind ?? "file", size: e.declaredSize ?? data.length, mtime: "2026-01-02T03:04:05.000Z", sha256: sha256(data) };
}

export function manifestFor(entries: ManifestEntry[], extra: Partial<Manifest> = {}): Manifest {
  return {
    format: 1, generator: "strongbox", databaseId: null, databaseName: "Crafted", backupNumber: 1,
    trigger: { kind: "manual", user: "test" }, scheduledDate: null, startingDate: "2026-01-02T03:04:05.000Z",
    endingDate: "2026-01-02T03:04:06.000Z", structurePath: "/nowhere/Project", dataPath: "/nowhere/Data/data.sqlite",
    settings: {} as Manifest["settings"], log: { firstOperation: null, lastOperation: null }, attachments: [], entries, ...extra,
  };
}

/**
 * A ZIP whose manifest lists its entries truthfully (names, sizes, SHA-256): only the names themselves are
 * hostile, so the restore must refuse it for what the names are. `unlisted` entries are left out of the manifest.
 */
export function writeCraftedArchive(file: string, entries: RawEntry[], opts: { unlisted?: string[] } = {}): void {
  const listed = entries.filter((e) => !opts.unlisted?.includes(e.name)).map(manifestEntry);
  writeRawZip(file, [...entries, { name: "manifest.json", data: JSON.stringify(manifestFor(listed)) }]);
}

/** Offset and length of an entry's (compressed) data in the archive file. */
export async function entryDataSpan(archive: string, name: string): Promise<{ offset: number; length: number; method: number }> {
  const zip = await yauzl.openPromise(archive, { lazyEntries: true, autoClose: false });
  try {
    for (;;) {
      const e = await new Promise<yauzl.Entry | null>((resolve, reject) => {
        zip.once("entry", resolve);
        zip.once("end", () => resolve(null));
        zip.once("error", reject);
        zip.readEntry();
      });
      if (!e) throw new Error(`${name}: not in ${archive}`);
      zip.removeAllListeners();
      if (e.fileName !== name) continue;
      const h = Buffer.alloc(30);
      const fd = fs.openSync(archive, "r");
      try { fs.readSync(fd, h, 0, 30, e.relativeOffsetOfLocalHeader); } finally { fs.closeSync(fd); }
      return { offset: e.relativeOffsetOfLocalHeader + 30 + h.readUInt16LE(26) + h.readUInt16LE(28), length: e.compressedSize, method: e.compressionMethod };
    }
  } finally {
    zip.close();
  }
}

/** Flips one bit of the byte at `offset`. */
export function flipBit(file: string, offset: number): void {
  const fd = fs.openSync(file, "r+");
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, offset);
    b[0]! ^= 0x10;
    fs.writeSync(fd, b, 0, 1, offset);
  } finally {
    fs.closeSync(fd);
  }
}
