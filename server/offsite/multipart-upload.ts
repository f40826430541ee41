// Uploads one local file to the bucket so that nothing is sent twice and nothing is lost to an interruption:
// - an object already there with the same SHA-256 (metadata `sha256`) is not sent again;
// - large files go as a multipart upload whose id and acknowledged parts are kept in console.sqlite after each
//   part, so a Stop, a crash or a restart resumes with the parts still missing (checked against ListParts);
// - every request carries the part's Content-MD5 (the one checksum Ceph's radosgw 16.2 verifies) and its SHA-256
//   checksum (for servers that verify that); the finished object is looked up to confirm its size and metadata;
// - with client-side encryption the object is the file's chunk-cipher form, the same bytes for the same file id,
//   which is kept with the upload so that parts sent before an interruption still fit;
// - Object Lock: asked for at creation, and set with PutObjectRetention when the server ignored it (radosgw 16.2
//   ignores the lock headers of CreateMultipartUpload).
// Multipart uploads nobody will finish (a crash before their id was recorded, an upload given up) are aborted by
// abortAbandonedUploads. Why not @aws-sdk/lib-storage's Upload: it can't resume a multipart upload after the
// process that started it has gone, which is the point here.
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand, ListPartsCommand,
  PutObjectRetentionCommand, UploadPartCommand, type HeadObjectCommandOutput,
} from "@aws-sdk/client-s3";
import crypto from "node:crypto";
import fs from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import type { ConsoleDb } from "../console/console-db";
import { ChunkCipher, chunkCount, DEFAULT_CHUNK_BYTES, encryptedSize, newFileId } from "./chunk-cipher";
import { classifyS3Error, OffsiteError, offsiteError, s3Url } from "./s3-client";
import { headObject, md5Base64, putObject, sha256Base64, type Bucket, type ObjectLock } from "./s3-objects";
import { ProgressMeter, throttled, type TransferProgress } from "./transfer-progress";
import { UploadStateStore, type PartState } from "./upload-state";

/** S3's smallest part (all but the last). */
export const MIN_PART_BYTES = 5 << 20;
export const DEFAULT_PART_BYTES = 8 << 20;
const MAX_PARTS = 10_000;

/** User metadata Strongbox puts on every object it uploads (x-amz-meta-…). */
export const META = { sha256: "sha256", size: "strongbox-size", encrypted: "strongbox-encrypted" } as const;

export interface UploadOptions {
  bucket: Bucket;
  /** console.sqlite: where the multipart upload's state is kept. */
  db: ConsoleDb;
  key: string;
  file: string;
  /** SHA-256 of the file (hex), when already known; computed otherwise. */
  sha256?: string;
  /** Encrypt with this master key (chunk-cipher.ts); null or absent: the file as it is. */
  masterKey?: Buffer | null;
  lock?: ObjectLock | null;
  metadata?: Record<string, string>;
  contentType?: string;
  /** Plaintext bytes per part (at least 5 MiB, a multiple of the cipher's chunk); files up to this size go in one request. */
  partBytes?: number;
  /** Parts sent at once (memory: about 2 × concurrency × partBytes). */
  concurrency?: number;
  /** An object of another content at the key is replaced instead of refused. */
  replace?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: TransferProgress) => void;
  /** After each part is in the bucket and recorded. */
  onPart?: (partNumber: number, partsTotal: number) => void;
}

export interface UploadResult {
  key: string;
  /** "already-there": an object with the same SHA-256 was found and nothing was sent. */
  outcome: "uploaded" | "resumed" | "already-there";
  sha256: string;
  size: number;
  objectSize: number;
  encrypted: boolean;
  partsSent: number;
  bytesSent: number;
  versionId: string | null;
  lock: { mode: string; retainUntil: string } | null;
}

const NO_FOLLOW = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW;
const hex = (b64: string) => Buffer.from(b64, "base64").toString("hex");
const unquote = (etag: string | undefined) => (etag ?? "").replace(/^"|"$/g, "");

/** SHA-256 (hex) of an open file, read 4 MiB at a time. */
export async function sha256OfFile(fh: FileHandle, size: number, opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {}): Promise<string> {
  const hash = crypto.createHash("sha256");
  const buf = Buffer.allocUnsafe(4 << 20);
  for (let pos = 0; pos < size; ) {
    opts.signal?.throwIfAborted();
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (bytesRead === 0) throw new Error(`the file ended at ${pos} bytes instead of ${size}`);
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
    opts.onBytes?.(bytesRead);
  }
  return hash.digest("hex");
}

async function readAt(fh: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  for (let off = 0; off < length; ) {
    const { bytesRead } = await fh.read(buf, off, length - off, position + off);
    if (bytesRead === 0) throw new Error(`the file ended before byte ${position + length}`);
    off += bytesRead;
  }
  return buf;
}

/** The object's bytes, part by part: the file itself, or its encrypted form. */
class PartSource {
  readonly count: number;
  readonly objectSize: number;
  private readonly chunksPerPart: number;

  constructor(private readonly fh: FileHandle, private readonly size: number, readonly partBytes: number, private readonly cipher: ChunkCipher | null) {
    if (cipher) {
      this.chunksPerPart = partBytes / cipher.chunkBytes;
      this.count = Math.ceil(chunkCount(size, cipher.chunkBytes) / this.chunksPerPart);
      this.objectSize = encryptedSize(size, cipher.chunkBytes);
    } else {
      this.chunksPerPart = 0;
      this.count = Math.max(1, Math.ceil(size / partBytes));
      this.objectSize = size;
    }
  }

  /** Bytes of part `n` (1-based) in the object. */
  partSize(n: number): number {
    const plainStart = (n - 1) * this.partBytes;
    const plainLen = Math.min(this.partBytes, this.size - plainStart);
    if (!this.cipher) return plainLen;
    const chunks = Math.ceil(plainLen / this.cipher.chunkBytes) || 1;
    return plainLen + chunks * 16 + (n === 1 ? this.cipher.header.length : 0);
  }

  async read(n: number): Promise<Buffer> {
    const plainStart = (n - 1) * this.partBytes;
    const plainLen = Math.min(this.partBytes, this.size - plainStart);
    const plain = await readAt(this.fh, plainLen, plainStart);
    if (!this.cipher) return plain;
    const c = this.cipher;
    const total = chunkCount(this.size, c.chunkBytes);
    const out: Buffer[] = n === 1 ? [c.header] : [];
    const first = (n - 1) * this.chunksPerPart;
    for (let i = 0; i * c.chunkBytes < plainLen || (i === 0 && plainLen === 0); i++) {
      const index = first + i;
      out.push(c.seal(index, index === total - 1, plain.subarray(i * c.chunkBytes, Math.min(plainLen, (i + 1) * c.chunkBytes))));
    }
    return Buffer.concat(out);
  }
}

/** The part size for a file: the one asked for, made larger when the file would need more than 10,000 parts. */
function choosePartBytes(size: number, asked: number, chunk: number): number {
  let p = Math.max(MIN_PART_BYTES, asked);
  p = Math.ceil(p / chunk) * chunk;
  while (Math.ceil(size / p) > MAX_PARTS) p *= 2;
  return p;
}

export async function uploadFile(opts: UploadOptions): Promise<UploadResult> {
  const { bucket: b, key, signal } = opts;
  const where = s3Url(b.dest.bucket, key);
  const what = `Uploading ${opts.file} to ${where}`;
  const report = throttled(opts.onProgress);
  signal?.throwIfAborted();
  let fh: FileHandle;
  try {
    fh = await fs.open(opts.file, NO_FOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new OffsiteError("other", `${what} failed: the file can't be opened (${code === "ELOOP" ? "it is a symbolic link" : code}). Nothing was sent.`, { cause: err });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new OffsiteError("other", `${what} failed: it is not a regular file. Nothing was sent.`);
    const size = st.size;
    let sha256 = opts.sha256;
    if (!sha256) {
      const meter = new ProgressMeter("hashing", size);
      sha256 = await sha256OfFile(fh, size, { signal, onBytes: (n) => { meter.add(n); report.push(() => meter.snapshot()); } });
    }
    const encrypted = !!opts.masterKey;
    const chunk = DEFAULT_CHUNK_BYTES;
    const partBytes = choosePartBytes(size, opts.partBytes ?? DEFAULT_PART_BYTES, chunk);
    const store = new UploadStateStore(opts.db);
    const metadata = { ...opts.metadata, [META.sha256]: sha256, [META.size]: String(size), [META.encrypted]: encrypted ? "1" : "0" };

    // 1. Already there?
    const existing = await headObject(b, key, signal);
    const expectedObjectSize = encrypted ? encryptedSize(size, chunk) : size;
    if (existing && sameContent(existing, sha256, size)) {
      const stale = store.find(b.dest.endpoint, b.dest.bucket, key);
      if (stale) await abortUpload(b, key, stale.uploadId, store);
      report.flush(() => ({ stage: "uploading", bytesDone: expectedObjectSize, bytesTotal: expectedObjectSize, bytesPerSecond: null, etaSeconds: null }));
      return {
        key, outcome: "already-there", sha256, size, objectSize: existing.ContentLength ?? 0, encrypted: existing.Metadata?.[META.encrypted] === "1",
        partsSent: 0, bytesSent: 0, versionId: existing.VersionId ?? null, lock: lockOf(existing),
      };
    }
    // Another file at the key is never replaced unasked (it may be the only copy of something); a copy of this
    // very file that is not whole (same SHA-256, other size) is.
    if (existing && !opts.replace && existing.Metadata?.[META.sha256] !== sha256) {
      throw new OffsiteError("other", `${what} was refused: ${where} already holds another file (SHA-256 ${existing.Metadata?.[META.sha256] ?? "unknown"}, ` +
        `this one's is ${sha256}). It is not replaced, so that no off-site copy is lost; move or delete that object if it is not needed.`);
    }

    // 2. One request for a small file.
    if (size <= partBytes) {
      const cipher = encrypted ? new ChunkCipher(opts.masterKey!, newFileId(), chunk) : null;
      const body = await new PartSource(fh, size, partBytes, cipher).read(1);
      const meter = new ProgressMeter("uploading", body.length);
      report.flush(() => meter.snapshot());
      const put = await putObject(b, key, body, { metadata, contentType: opts.contentType, lock: opts.lock, signal });
      meter.add(body.length);
      report.flush(() => meter.snapshot());
      const head = await confirm(b, key, sha256, body.length, signal);
      const lock = opts.lock ? await ensureLock(b, key, head, opts.lock, signal) : lockOf(head);
      return { key, outcome: "uploaded", sha256, size, objectSize: body.length, encrypted, partsSent: 1, bytesSent: body.length, versionId: put.versionId ?? head.VersionId ?? null, lock };
    }

    // 3. Multipart: resume the recorded upload when it is still this file's, else start one.
    let state = store.find(b.dest.endpoint, b.dest.bucket, key);
    if (state && (state.sha256 !== sha256 || state.localSize !== size || state.partSize !== partBytes || (state.cipherFileId !== null) !== encrypted)) {
      await abortUpload(b, key, state.uploadId, store);
      state = null;
    }
    let cipher = state?.cipherFileId ? new ChunkCipher(opts.masterKey!, Buffer.from(state.cipherFileId, "hex"), chunk) : null;
    let source = new PartSource(fh, size, partBytes, cipher);
    if (state && cipher) {
      // Parts made with another key (the passphrase changed meanwhile) can't be mixed with new ones: one recorded
      // part made again with this key must give the same bytes.
      const first = [...store.parts(state.uploadId).values()].sort((x, y) => x.partNumber - y.partNumber)[0];
      if (first && md5Base64(await source.read(first.partNumber)) !== first.md5) {
        await abortUpload(b, key, state.uploadId, store);
        state = null;
      }
    }
    const done = new Map<number, PartState>();
    let resumed = false;
    if (state) {
      const listed = await listParts(b, key, state.uploadId, signal);
      if (listed === null) {
        store.remove(state.uploadId); // aborted meanwhile (cleanup, lifecycle rule): start again
        state = null;
      } else {
        resumed = true;
        const known = store.parts(state.uploadId);
        for (const [n, lp] of listed) {
          if (n > source.count || lp.size !== source.partSize(n)) continue;
          let part = known.get(n);
          if (!part || part.size !== lp.size) {
            // In the bucket but not recorded (the process died between the two): checked against the file itself.
            const bytes = await source.read(n);
            part = { partNumber: n, etag: lp.etag, md5: md5Base64(bytes), sha256: sha256Base64(bytes), size: bytes.length };
          }
          if (unquote(lp.etag) === hex(part.md5)) {
            done.set(n, { ...part, etag: lp.etag });
            store.savePart(state.uploadId, done.get(n)!);
          }
        }
      }
    }
    if (!state) {
      cipher = encrypted ? new ChunkCipher(opts.masterKey!, newFileId(), chunk) : null;
      source = new PartSource(fh, size, partBytes, cipher);
      let uploadId: string | undefined;
      try {
        const r = await b.client.send(new CreateMultipartUploadCommand({
          Bucket: b.dest.bucket, Key: key, Metadata: metadata, ContentType: opts.contentType ?? "application/octet-stream", ChecksumAlgorithm: "SHA256",
          ObjectLockMode: opts.lock?.mode, ObjectLockRetainUntilDate: opts.lock?.retainUntil,
        }), { abortSignal: signal });
        uploadId = r.UploadId;
      } catch (err) {
        throw offsiteError(err, what, b.dest, signal);
      }
      if (!uploadId) throw new OffsiteError("other", `${what} failed: the server did not give an upload id.`);
      state = {
        uploadId, endpoint: b.dest.endpoint, bucket: b.dest.bucket, key, localPath: opts.file, localSize: size, sha256, objectSize: source.objectSize,
        partSize: partBytes, cipherFileId: cipher ? cipher.fileId.toString("hex") : null, createdAt: new Date().toISOString(),
      };
      store.insert(state);
    }

    // 4. The missing parts, a few at a time; each one recorded as soon as the server has it.
    const uploadId = state.uploadId;
    const todo = Array.from({ length: source.count }, (_, i) => i + 1).filter((n) => !done.has(n));
    const meter = new ProgressMeter("uploading", source.objectSize, [...done.values()].reduce((s, p) => s + p.size, 0));
    report.flush(() => meter.snapshot());
    let next = 0;
    let failure: unknown = null;
    let partsSent = 0;
    let bytesSent = 0;
    const sendPart = async (n: number) => {
      const bytes = await source.read(n);
      const part = { partNumber: n, etag: "", md5: md5Base64(bytes), sha256: sha256Base64(bytes), size: bytes.length };
      const requestTimeout = Math.max(120_000, Math.ceil(bytes.length / 64_000) * 1000);
      const r = await b.client.send(new UploadPartCommand({
        Bucket: b.dest.bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: bytes, ContentLength: bytes.length,
        ContentMD5: part.md5, ChecksumSHA256: part.sha256,
      }), { abortSignal: signal, requestTimeout });
      part.etag = r.ETag ?? "";
      if (part.etag && unquote(part.etag) !== hex(part.md5) && /^[0-9a-f]{32}$/.test(unquote(part.etag))) {
        throw new OffsiteError("other", `${what} failed: part ${n} came back with ETag ${part.etag}, not the MD5 of what was sent; it is sent again at the next attempt.`);
      }
      store.savePart(uploadId, part);
      done.set(n, part);
      partsSent++;
      bytesSent += bytes.length;
      meter.add(bytes.length);
      report.push(() => meter.snapshot());
      opts.onPart?.(n, source.count);
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, todo.length) }, async () => {
      while (failure === null && next < todo.length) {
        const n = todo[next++]!;
        try {
          await sendPart(n);
        } catch (err) {
          failure ??= err;
        }
      }
    }));
    if (failure !== null) {
      const e = offsiteError(failure, what, b.dest, signal);
      const left = `${done.size} of ${source.count} parts are in the bucket; the upload resumes with the others at the next attempt.`;
      throw new OffsiteError(e.kind, `${e.message.replace(/\s*$/, "")} ${left}`, { cause: failure, code: e.code });
    }

    // 5. The file must not have changed meanwhile (an archive never does; a file being rewritten would mix versions).
    const after = await fh.stat();
    if (after.size !== size || after.mtimeMs !== st.mtimeMs) {
      await abortUpload(b, key, uploadId, store);
      throw new OffsiteError("other", `${what} failed: the file changed while it was being sent. The upload was abandoned; it starts again at the next attempt.`);
    }

    // 6. Complete, then look the object up: its size and SHA-256 metadata must be ours.
    const parts = [...done.values()].sort((x, y) => x.partNumber - y.partNumber)
      .map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, ChecksumSHA256: p.sha256 }));
    let versionId: string | null = null;
    try {
      const r = await b.client.send(new CompleteMultipartUploadCommand({ Bucket: b.dest.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
        { abortSignal: signal });
      versionId = r.VersionId ?? null;
    } catch (err) {
      // A completion that succeeded on the server but whose answer was lost: the object is there.
      const there = await headObject(b, key, signal).catch(() => null);
      if (!there || !sameContent(there, sha256, size)) throw offsiteError(err, `${what} (completing the multipart upload)`, b.dest, signal);
    }
    store.remove(uploadId);
    const head = await confirm(b, key, sha256, source.objectSize, signal);
    const lock = opts.lock ? await ensureLock(b, key, head, opts.lock, signal) : lockOf(head);
    report.flush(() => meter.snapshot());
    return {
      key, outcome: resumed ? "resumed" : "uploaded", sha256, size, objectSize: source.objectSize, encrypted, partsSent, bytesSent,
      versionId: versionId ?? head.VersionId ?? null, lock,
    };
  } catch (err) {
    throw offsiteError(err, what, b.dest, signal);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

function sameContent(head: HeadObjectCommandOutput, sha256: string, size: number): boolean {
  return head.Metadata?.[META.sha256] === sha256 && head.Metadata?.[META.size] === String(size);
}

function lockOf(head: HeadObjectCommandOutput): UploadResult["lock"] {
  return head.ObjectLockRetainUntilDate && head.ObjectLockMode
    ? { mode: head.ObjectLockMode, retainUntil: new Date(head.ObjectLockRetainUntilDate).toISOString() } : null;
}

/** The object as the server now has it must be the one just sent. */
async function confirm(b: Bucket, key: string, sha256: string, objectSize: number, signal?: AbortSignal): Promise<HeadObjectCommandOutput> {
  const head = await headObject(b, key, signal);
  if (!head) throw new OffsiteError("not-found", `${s3Url(b.dest.bucket, key)} is not in the bucket right after its upload completed; it is sent again at the next attempt.`);
  if (head.ContentLength !== objectSize || head.Metadata?.[META.sha256] !== sha256) {
    throw new OffsiteError("other", `${s3Url(b.dest.bucket, key)} has ${head.ContentLength} bytes and SHA-256 ${head.Metadata?.[META.sha256] ?? "none"} after its upload, ` +
      `instead of ${objectSize} bytes and ${sha256}; it is sent again at the next attempt.`);
  }
  return head;
}

/** Makes sure the object's version is locked until at least `lock.retainUntil` (radosgw ignores the lock headers of multipart uploads). */
async function ensureLock(b: Bucket, key: string, head: HeadObjectCommandOutput, lock: ObjectLock, signal?: AbortSignal): Promise<UploadResult["lock"]> {
  const current = head.ObjectLockRetainUntilDate ? new Date(head.ObjectLockRetainUntilDate).getTime() : 0;
  if (current >= lock.retainUntil.getTime() - 1000 && head.ObjectLockMode === lock.mode) return lockOf(head);
  try {
    await b.client.send(new PutObjectRetentionCommand({
      Bucket: b.dest.bucket, Key: key, VersionId: head.VersionId, Retention: { Mode: lock.mode, RetainUntilDate: lock.retainUntil },
    }), { abortSignal: signal });
  } catch (err) {
    throw offsiteError(err, `Setting Object Lock (${lock.mode} until ${lock.retainUntil.toISOString()}) on ${s3Url(b.dest.bucket, key)}`, b.dest, signal);
  }
  return { mode: lock.mode, retainUntil: lock.retainUntil.toISOString() };
}

/** The parts the server holds for an upload (number → ETag, size), or null when the upload no longer exists. */
async function listParts(b: Bucket, key: string, uploadId: string, signal?: AbortSignal): Promise<Map<number, { etag: string; size: number }> | null> {
  const out = new Map<number, { etag: string; size: number }>();
  let marker: string | undefined;
  try {
    do {
      const r = await b.client.send(new ListPartsCommand({ Bucket: b.dest.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }), { abortSignal: signal });
      for (const p of r.Parts ?? []) if (p.PartNumber && p.ETag) out.set(p.PartNumber, { etag: p.ETag, size: p.Size ?? 0 });
      marker = r.IsTruncated ? r.NextPartNumberMarker : undefined;
    } while (marker);
  } catch (err) {
    if (s3ErrorCodeIs(err, "NoSuchUpload")) return null;
    throw offsiteError(err, `Listing the parts already sent to ${s3Url(b.dest.bucket, key)}`, b.dest, signal);
  }
  return out;
}

const s3ErrorCodeIs = (err: unknown, code: string) => classifyS3Error(err).code === code;

async function abortUpload(b: Bucket, key: string, uploadId: string, store: UploadStateStore): Promise<void> {
  try {
    await b.client.send(new AbortMultipartUploadCommand({ Bucket: b.dest.bucket, Key: key, UploadId: uploadId }));
  } catch (err) {
    if (!s3ErrorCodeIs(err, "NoSuchUpload")) throw offsiteError(err, `Abandoning the multipart upload of ${s3Url(b.dest.bucket, key)}`, b.dest);
  }
  store.remove(uploadId);
}

export interface AbandonedUploadsOptions {
  bucket: Bucket;
  db: ConsoleDb;
  /** Only uploads under this key prefix are looked at (the destination's prefix). */
  prefix: string;
  /** An upload console.sqlite does not know is left alone this long (another process may just have started it). Default 1 hour. */
  unknownGraceMs?: number;
  /** An upload console.sqlite knows is given up after this long. Default 7 days. */
  knownMaxAgeMs?: number;
  now?: Date;
  signal?: AbortSignal;
}

export interface AbandonedUpload { key: string; uploadId: string; initiated: string | null; why: "unknown" | "too old" }

/**
 * Aborts the multipart uploads under the prefix that nobody will finish — the ones console.sqlite does not know
 * (a crash before their id was recorded), and known ones older than `knownMaxAgeMs` — so that their parts stop
 * taking space (and money). Their records go too. Returns what was aborted.
 */
export async function abortAbandonedUploads(opts: AbandonedUploadsOptions): Promise<AbandonedUpload[]> {
  const { bucket: b, signal } = opts;
  const store = new UploadStateStore(opts.db);
  const now = (opts.now ?? new Date()).getTime();
  const grace = opts.unknownGraceMs ?? 3_600_000;
  const maxAge = opts.knownMaxAgeMs ?? 7 * 86_400_000;
  const aborted: AbandonedUpload[] = [];
  let keyMarker: string | undefined;
  let idMarker: string | undefined;
  const found: Array<{ key: string; uploadId: string; initiated: Date | null }> = [];
  const listedAt = Date.now();
  try {
    do {
      const r = await b.client.send(new ListMultipartUploadsCommand({ Bucket: b.dest.bucket, Prefix: opts.prefix, KeyMarker: keyMarker, UploadIdMarker: idMarker }),
        { abortSignal: signal });
      for (const u of r.Uploads ?? []) if (u.Key && u.UploadId) found.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated ?? null });
      keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
      idMarker = r.IsTruncated ? r.NextUploadIdMarker : undefined;
    } while (keyMarker);
  } catch (err) {
    throw offsiteError(err, `Listing the unfinished uploads in ${s3Url(b.dest.bucket, opts.prefix)}`, b.dest, signal);
  }
  // Records of uploads the server no longer has (aborted by a lifecycle rule, or by hand): nothing to resume.
  const listed = new Set(found.map((u) => u.uploadId));
  for (const s of store.list(b.dest.endpoint, b.dest.bucket)) {
    if (s.key.startsWith(opts.prefix) && !listed.has(s.uploadId) && Date.parse(s.createdAt) < listedAt) store.remove(s.uploadId);
  }
  for (const u of found) {
    const known = store.byUploadId(u.uploadId);
    const started = known ? Date.parse(known.createdAt) : u.initiated?.getTime() ?? now;
    const why = !known && now - started >= grace ? "unknown" : known && now - started >= maxAge ? "too old" : null;
    if (!why) continue;
    signal?.throwIfAborted();
    await abortUpload(b, u.key, u.uploadId, store);
    aborted.push({ key: u.key, uploadId: u.uploadId, initiated: u.initiated?.toISOString() ?? null, why });
  }
  return aborted;
}

