// ZIP record layouts (APPNOTE 6.3.x): local/central headers, data descriptor, (zip64) end records.
export const MAX32 = 0xffffffff;
export const MAX16 = 0xffff;

export const FLAG_DESCRIPTOR = 1 << 3; // sizes and CRC follow the data
export const FLAG_UTF8 = 1 << 11;
export const METHOD_STORED = 0;
export const METHOD_DEFLATE = 8;
const MADE_BY = (3 << 8) | 45; // Unix, spec 4.5

const S_IFREG = 0o100000, S_IFDIR = 0o040000, S_IFLNK = 0o120000;
export const unixAttrs = {
  file: (mode: number) => ((S_IFREG | (mode & 0o7777)) << 16) >>> 0,
  directory: (mode: number) => (((S_IFDIR | (mode & 0o7777)) << 16) | 0x10) >>> 0, // 0x10: MS-DOS directory bit
  symlink: () => ((S_IFLNK | 0o777) << 16) >>> 0,
};

/** What the central directory needs to know about one written entry. */
export interface EntryRecord {
  name: Buffer;
  flags: number;
  method: number;
  mtime: Date;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
  externalAttrs: number;
  zip64Local: boolean; // the local header carried a zip64 extra (so the descriptor has 8-byte sizes)
}

/** MS-DOS date/time in local time; DOS cannot express dates before 1980. */
export function dosDateTime(d: Date): { date: number; time: number } {
  if (Number.isNaN(d.getTime()) || d.getFullYear() < 1980) return { date: (1 << 5) | 1, time: 0 };
  const year = Math.min(d.getFullYear(), 2107);
  return {
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
  };
}

/** Extended timestamp extra field (0x5455) holding the UTC mtime only. */
function extTimestamp(mtime: Date): Buffer {
  const b = Buffer.alloc(9);
  b.writeUInt16LE(0x5455, 0);
  b.writeUInt16LE(5, 2);
  b.writeUInt8(1, 4); // flags: mtime present
  const secs = Math.floor(mtime.getTime() / 1000);
  b.writeInt32LE(Number.isFinite(secs) ? Math.max(-0x80000000, Math.min(0x7fffffff, secs)) : 0, 5);
  return b;
}

function zip64Extra(values: number[]): Buffer {
  const b = Buffer.alloc(4 + 8 * values.length);
  b.writeUInt16LE(0x0001, 0);
  b.writeUInt16LE(8 * values.length, 2);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), 4 + 8 * i));
  return b;
}

function versionNeeded(method: number, zip64: boolean): number {
  return zip64 ? 45 : method === METHOD_DEFLATE ? 20 : 10;
}

/**
 * Local file header. With `descriptor`, CRC and sizes are zero here and follow the data; with
 * `zip64Local` the header carries a zip64 extra (sizes 0xFFFFFFFF here, 8-byte values in the extra).
 */
export function localHeader(e: Omit<EntryRecord, "offset" | "externalAttrs">): Buffer {
  const descriptor = (e.flags & FLAG_DESCRIPTOR) !== 0;
  const extras: Buffer[] = [];
  if (e.zip64Local) extras.push(zip64Extra(descriptor ? [0, 0] : [e.size, e.compressedSize]));
  extras.push(extTimestamp(e.mtime));
  const extra = Buffer.concat(extras);
  const h = Buffer.alloc(30);
  const { date, time } = dosDateTime(e.mtime);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(versionNeeded(e.method, e.zip64Local), 4);
  h.writeUInt16LE(e.flags, 6);
  h.writeUInt16LE(e.method, 8);
  h.writeUInt16LE(time, 10);
  h.writeUInt16LE(date, 12);
  h.writeUInt32LE(descriptor ? 0 : e.crc, 14);
  h.writeUInt32LE(e.zip64Local ? MAX32 : descriptor ? 0 : e.compressedSize, 18);
  h.writeUInt32LE(e.zip64Local ? MAX32 : descriptor ? 0 : e.size, 22);
  h.writeUInt16LE(e.name.length, 26);
  h.writeUInt16LE(extra.length, 28);
  return Buffer.concat([h, e.name, extra]);
}

export function dataDescriptor(crc: number, compressedSize: number, size: number, zip64: boolean): Buffer {
  const b = Buffer.alloc(zip64 ? 24 : 16);
  b.writeUInt32LE(0x08074b50, 0);
  b.writeUInt32LE(crc, 4);
  if (zip64) {
    b.writeBigUInt64LE(BigInt(compressedSize), 8);
    b.writeBigUInt64LE(BigInt(size), 16);
  } else {
    b.writeUInt32LE(compressedSize, 8);
    b.writeUInt32LE(size, 12);
  }
  return b;
}

/** Central directory header; values that do not fit 32 bits move to the zip64 extra (or all, when forced). */
export function centralHeader(e: EntryRecord, forceZip64 = false): Buffer {
  const big = (v: number) => forceZip64 || v >= MAX32;
  const z64 = [e.size, e.compressedSize, e.offset].filter(big);
  const extra = Buffer.concat([...(z64.length ? [zip64Extra(z64)] : []), extTimestamp(e.mtime)]);
  const h = Buffer.alloc(46);
  const { date, time } = dosDateTime(e.mtime);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(MADE_BY, 4);
  h.writeUInt16LE(versionNeeded(e.method, z64.length > 0 || e.zip64Local), 6);
  h.writeUInt16LE(e.flags, 8);
  h.writeUInt16LE(e.method, 10);
  h.writeUInt16LE(time, 12);
  h.writeUInt16LE(date, 14);
  h.writeUInt32LE(e.crc, 16);
  h.writeUInt32LE(big(e.compressedSize) ? MAX32 : e.compressedSize, 20);
  h.writeUInt32LE(big(e.size) ? MAX32 : e.size, 24);
  h.writeUInt16LE(e.name.length, 28);
  h.writeUInt16LE(extra.length, 30);
  // comment length, disk number start, internal attributes: 0
  h.writeUInt32LE(e.externalAttrs, 38);
  h.writeUInt32LE(big(e.offset) ? MAX32 : e.offset, 42);
  return Buffer.concat([h, e.name, extra]);
}

/** End of central directory, preceded by the zip64 record and locator when anything overflows. */
export function endRecords(count: number, cdOffset: number, cdSize: number, forceZip64 = false): Buffer {
  const zip64 = forceZip64 || count >= MAX16 || cdOffset >= MAX32 || cdSize >= MAX32;
  const parts: Buffer[] = [];
  if (zip64) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4); // size of the remaining record
    rec.writeUInt16LE(MADE_BY, 12);
    rec.writeUInt16LE(45, 14);
    // disk numbers (16, 20): 0
    rec.writeBigUInt64LE(BigInt(count), 24);
    rec.writeBigUInt64LE(BigInt(count), 32);
    rec.writeBigUInt64LE(BigInt(cdSize), 40);
    rec.writeBigUInt64LE(BigInt(cdOffset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(cdOffset + cdSize), 8);
    loc.writeUInt32LE(1, 16); // total number of disks
    parts.push(rec, loc);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  const n16 = zip64 && (forceZip64 || count >= MAX16) ? MAX16 : count;
  eocd.writeUInt16LE(n16, 8);
  eocd.writeUInt16LE(n16, 10);
  eocd.writeUInt32LE(zip64 && (forceZip64 || cdSize >= MAX32) ? MAX32 : cdSize, 12);
  eocd.writeUInt32LE(zip64 && (forceZip64 || cdOffset >= MAX32) ? MAX32 : cdOffset, 16);
  parts.push(eocd);
  return Buffer.concat(parts);
}
