// zlib work off the main thread: a small pool of worker threads running zlib's one-shot *sync* calls.
// Measured on 2 cores, libuv-threadpool async zlib (zlib.deflateRaw with a callback) spent ~0.3-0.6 ms
// of CPU per call setting up and freeing zlib state across threads and starved the main thread
// (reference set at level 1: 8.4 s, vs 5.5 s with workers). Workers also read, CRC and hash whole
// small files, and inflate and hash for verification; the main thread reads large files and writes.
import { Worker } from "node:worker_threads";

/** Worker body as plain JS: no separate file to locate or bundle (Next, tsx, vitest all run it as is). */
const WORKER_SOURCE = String.raw`
"use strict";
const { parentPort } = require("node:worker_threads");
const fs = require("node:fs");
const zlib = require("node:zlib");
const crypto = require("node:crypto");
// Vanished, or no longer a regular file: skipped and reported. O_NONBLOCK: a FIFO must not hang us.
const SKIPPABLE = new Set(["ENOENT", "ENOTDIR", "ELOOP", "EISDIR"]);
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
const { Z_FINISH, Z_SYNC_FLUSH } = zlib.constants;
let scratch = Buffer.alloc(0);
const counts = new Uint32Array(256), seen = new Int32Array(4096);

// Already-compressed data (JPEG, PDF streams, archives): near-maximal byte entropy in 8 sampled
// 1 KiB windows (Miller-Madow corrected) and no 4-byte repeats inside them. Errors only cost ratio.
function incompressible(b) {
  const WIN = 1024, W = 8;
  if (b.length < W * WIN) return false;
  counts.fill(0);
  const step = Math.floor((b.length - WIN) / (W - 1));
  let repeats = 0;
  for (let w = 0; w < W; w++) {
    const start = w * step, end = start + WIN;
    seen.fill(-1);
    for (let i = start; i < end; i++) {
      counts[b[i]]++;
      if (i + 4 <= end) {
        const v = b.readUInt32LE(i), h = Math.imul(v, 0x9e3779b1) >>> 20, prev = seen[h];
        if (prev >= 0 && b.readUInt32LE(prev) === v) repeats++;
        seen[h] = i;
      }
    }
  }
  const n = W * WIN;
  let e = 0, used = 0;
  for (let i = 0; i < 256; i++) if (counts[i]) { used++; const p = counts[i] / n; e -= p * Math.log2(p); }
  return e + (used - 1) / (2 * n * Math.LN2) > 7.93 && repeats < 8;
}

function deflate(data, level, last, dictionary) {
  const opts = { level, finishFlush: last ? Z_FINISH : Z_SYNC_FLUSH, chunkSize: Math.max(64, data.length + (data.length >> 10) + 64) };
  if (dictionary) opts.dictionary = dictionary;
  else if (data.length < 32768) { // window sized to the input: same output, much less state to set up
    const wb = Math.max(9, Math.min(15, Math.ceil(Math.log2(data.length + 262))));
    opts.windowBits = wb; opts.memLevel = Math.max(1, wb - 7);
  }
  return zlib.deflateRawSync(data, opts);
}

function readAll(fd, buf, max) {
  let n = 0;
  for (;;) { const r = fs.readSync(fd, buf, n, max - n, n); if (!r) return n; n += r; if (n === max) return n; }
}

// Whole small entries: read (or take inline data), CRC, SHA-256, deflate or store, all results packed
// into the caller's buffer m.out (recycled by the main thread: no garbage per batch there).
function files(m) {
  const results = [];
  let out = Buffer.from(m.out), off = 0;
  const put = (b) => {
    if (off + b.length > out.length) { // only when files grew since listing
      const bigger = Buffer.allocUnsafeSlow(Math.max(out.length * 2, off + b.length));
      out.copy(bigger, 0, 0, off); out = bigger;
    }
    b.copy(out, off); off += b.length;
  };
  for (const it of m.items) {
    let data;
    if (it.data) data = Buffer.from(it.data.buffer, it.data.byteOffset, it.data.byteLength);
    else {
      let fd;
      try {
        fd = fs.openSync(it.path, OPEN_FLAGS);
        // Replaced since the listing by a FIFO or a device: skipped, not read (a FIFO would read as empty, or EAGAIN).
        if (!fs.fstatSync(fd).isFile()) { results.push({ skip: "ENOTREG: no longer a regular file" }); continue; }
        if (scratch.length < m.max) scratch = Buffer.allocUnsafeSlow(m.max);
        const n = readAll(fd, scratch, m.max);
        if (n === m.max) { results.push({ grew: true }); continue; } // now too big for one piece
        data = scratch.subarray(0, n);
      } catch (e) {
        if (SKIPPABLE.has(e.code)) { results.push({ skip: e.code + ": " + e.message }); continue; }
        throw e;
      } finally {
        if (fd !== undefined) fs.closeSync(fd);
      }
    }
    const crc = zlib.crc32(data);
    const sha256 = crypto.createHash("sha256").update(data).digest("hex");
    let z;
    if (m.level > 0 && data.length > 0 && !incompressible(data)) {
      z = deflate(data, m.level, true);
      if (z.length >= data.length) z = undefined;
    }
    results.push({ size: data.length, crc, sha256, stored: !z, len: (z || data).length });
    put(z || data);
  }
  return [{ results, out: out.buffer }, [out.buffer]];
}

// One chunk of a large entry (read and hashed by the main thread). Both buffers go back for reuse.
function chunk(m) {
  const data = Buffer.from(m.buf, 0, m.len);
  if (incompressible(data)) return [{ stored: true, buf: m.buf, out: m.out }, [m.buf, m.out]];
  const dict = m.dict ? Buffer.from(m.dict.buffer, m.dict.byteOffset, m.dict.byteLength) : undefined;
  const z = deflate(data, m.level, m.last, dict);
  const out = z.length <= m.out.byteLength ? m.out : Buffer.allocUnsafeSlow(z.length).buffer;
  z.copy(Buffer.from(out));
  return [{ stored: false, buf: m.buf, out, len: z.length }, out === m.out ? [m.buf, out] : [m.buf, out, m.out]];
}

// zlib's sync calls allocate a fresh output buffer per call; V8 reclaims that external memory late
// (measured: +30 MB RSS per worker). A young-generation GC every few MB keeps it flat (~1 ms each).
let collect = typeof globalThis.gc === "function" ? globalThis.gc : undefined;
if (!collect) try { require("node:v8").setFlagsFromString("--expose-gc"); collect = require("node:vm").runInNewContext("gc"); } catch {}
let sinceGc = 0;

// Verification: a span of the archive holding whole entries (local header + data). Each is inflated
// (bounded by its declared size), CRC'd and hashed; the span buffer goes back for reuse.
function check(m) {
  const span = Buffer.from(m.buf, 0, m.len);
  const results = m.items.map((it) => {
    try {
      const h = it.at;
      if (h + 30 > span.length || span.readUInt32LE(h) !== 0x04034b50) return { error: "bad local header" };
      const start = h + 30 + span.readUInt16LE(h + 26) + span.readUInt16LE(h + 28);
      if (start + it.csize > span.length) return { error: "data runs past its span" };
      const data = span.subarray(start, start + it.csize);
      const out = it.method === 0 ? data
        : zlib.inflateRawSync(data, { chunkSize: Math.max(64, Math.min(it.size + 64, 64 << 20)), maxOutputLength: it.size + 1 });
      return { size: out.length, crc: zlib.crc32(out), sha256: crypto.createHash("sha256").update(out).digest("hex") };
    } catch (e) {
      return { error: e && e.code === "ERR_BUFFER_TOO_LARGE" ? "larger than recorded" : String(e && e.message) };
    }
  });
  return [{ results, buf: m.buf }, [m.buf]];
}

parentPort.on("message", (m) => {
  let reply;
  try { reply = m.type === "files" ? files(m) : m.type === "chunk" ? chunk(m) : check(m); }
  catch (e) { parentPort.postMessage({ id: m.id, error: { message: String(e && e.message), code: e && e.code } }); return; }
  reply[0].id = m.id;
  parentPort.postMessage(reply[0], reply[1]);
  sinceGc += m.type === "files" ? m.max : m.len * (m.type === "check" ? 4 : 1);
  if (collect && sinceGc >= 8 << 20) { sinceGc = 0; collect({ type: "minor" }); }
});
`;

export interface FileItem { path?: string; data?: Uint8Array }
export type FileResult =
  | { size: number; crc: number; sha256: string; stored: boolean; len: number; skip?: undefined; grew?: undefined }
  | { skip: string; grew?: undefined }
  | { grew: true; skip?: undefined };
export interface FilesReply { results: FileResult[]; out: ArrayBuffer }
export interface ChunkReply { stored: boolean; buf: ArrayBuffer; out: ArrayBuffer; len: number }
/** An entry inside a verification span: local header at `at`, data as recorded centrally. */
export interface CheckItem { at: number; csize: number; size: number; method: number }
export type CheckResult = { size: number; crc: number; sha256: string; error?: undefined } | { error: string };
export interface CheckReply { results: CheckResult[]; buf: ArrayBuffer }

type Task = { msg: Record<string, unknown>; transfer: ArrayBuffer[]; resolve: (v: any) => void; reject: (e: unknown) => void };
const PER_WORKER = 2; // queued per worker so it never waits on the main thread between tasks

/** Worker threads for zlib work: deflating for the writer, inflating and hashing for verification. */
export class ZlibPool {
  private readonly workers: Array<{ w: Worker; tasks: Map<number, Task> }> = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private broken?: Error;
  private idle?: () => void;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      // execArgv: [] so loaders of the parent (tsx, vitest) are not started again in every worker.
      const w = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
      const slot = { w, tasks: new Map<number, Task>() };
      w.on("message", (m: { id: number; error?: { message: string; code?: string } }) => {
        const t = slot.tasks.get(m.id);
        if (!t) return;
        slot.tasks.delete(m.id);
        if (m.error) t.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
        else t.resolve(m);
        this.pump();
      });
      w.on("error", (e) => this.breakAll(e));
      w.on("exit", (code) => { if (!this.broken) this.breakAll(new Error(`compression worker exited (${code})`)); });
      this.workers.push(slot);
    }
  }

  /** Small whole entries; results packed into `out` (returned, possibly replaced by a bigger one). */
  files(level: number, max: number, items: FileItem[], out: ArrayBuffer): Promise<FilesReply> {
    return this.run({ type: "files", level, max, items, out }, [out]);
  }
  /** One chunk of `len` bytes in `buf`; deflated into `out` unless stored. Both come back. */
  chunk(level: number, buf: ArrayBuffer, len: number, last: boolean, out: ArrayBuffer, dict?: Buffer): Promise<ChunkReply> {
    return this.run({ type: "chunk", level, buf, len, last, out, dict }, [buf, out]);
  }

  /** Verifies whole entries found in `buf` (its first `len` bytes); the buffer comes back. */
  check(buf: ArrayBuffer, len: number, items: CheckItem[]): Promise<CheckReply> {
    return this.run({ type: "check", buf, len, items }, [buf]);
  }

  private run<T>(msg: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<T> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ msg, transfer, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length) {
      let best: (typeof this.workers)[number] | undefined;
      for (const s of this.workers) if (s.tasks.size < PER_WORKER && (!best || s.tasks.size < best.tasks.size)) best = s;
      if (!best) return;
      const t = this.queue.shift()!;
      const id = this.nextId++;
      best.tasks.set(id, t);
      best.w.postMessage({ ...t.msg, id }, t.transfer);
    }
    if (this.idle && this.workers.every((s) => !s.tasks.size)) this.idle();
  }

  private breakAll(e: unknown): void {
    this.broken ??= e instanceof Error ? e : new Error(String(e));
    for (const t of this.queue.splice(0)) t.reject(this.broken);
    for (const s of this.workers) { for (const t of s.tasks.values()) t.reject(this.broken); s.tasks.clear(); }
    this.idle?.();
  }

  /**
   * Drops queued tasks, lets running ones finish (they may hold open files; each is at most ~1 MiB
   * of work), then stops the workers. A task stuck on I/O for seconds is cut short anyway.
   */
  async close(): Promise<void> {
    const err = new Error("compression pool closed");
    for (const t of this.queue.splice(0)) t.reject(err);
    if (!this.broken && this.workers.some((s) => s.tasks.size)) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((r) => { this.idle = r; }), new Promise<void>((r) => { timer = setTimeout(r, 2000); })]);
      clearTimeout(timer);
    }
    this.broken ??= err;
    await Promise.all(this.workers.map((s) => s.w.terminate()));
  }
}

/** Raw-deflate stored blocks for an incompressible chunk (the stream is byte-aligned between chunks). */
export function storedBlocks(data: Buffer, last: boolean): Buffer[] {
  if (data.length === 0) return last ? [Buffer.from([1, 0, 0, 0xff, 0xff])] : [];
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += 0xffff) {
    const len = Math.min(0xffff, data.length - off);
    const h = Buffer.allocUnsafe(5);
    h[0] = last && off + len >= data.length ? 1 : 0;
    h.writeUInt16LE(len, 1);
    h.writeUInt16LE(len ^ 0xffff, 3);
    out.push(h, data.subarray(off, off + len));
  }
  return out;
}

/**
 * Reusable transferable buffers, passed back and forth with the workers. Transferred buffers that
 * become garbage are reclaimed late by V8 (measured: ~80 MB extra RSS), so big buffers are recycled.
 */
export class BufferPool {
  private free: ArrayBuffer[] = [];
  constructor(readonly size: number) {}
  take(): ArrayBuffer { return this.free.pop() ?? (Buffer.allocUnsafeSlow(this.size).buffer as ArrayBuffer); }
  /** Buffers in use are bounded by the writer's budget, so the free list is too. */
  give(ab: ArrayBuffer): void { if (ab.byteLength === this.size) this.free.push(ab); }
}
