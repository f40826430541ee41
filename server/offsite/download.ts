// Brings one object back from the bucket into a local file: streamed (bounded memory), decrypted when it is
// encrypted, its SHA-256 checked against the one recorded at upload, and resumable — bytes already received stay
// in a partial file beside the target (0600), and the next attempt, in this call or a later one, asks only for
// the rest (a Range request pinned to the same object version by its ETag). The target appears only whole and
// checked (link of the flushed partial file); a damaged object leaves nothing.
import { GetObjectCommand } from "@aws-sdk/client-s3";
import crypto from "node:crypto";
import fs from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fsyncDir } from "../fs/atomic-write";
import { ChunkDecryptor, CipherError, HEADER_BYTES, sealedChunkOffset } from "./chunk-cipher";
import { ENCRYPTED_SUFFIX } from "./bucket-layout";
import { META } from "./multipart-upload";
import { classifyS3Error, isOffsiteError, OffsiteError, offsiteError, s3Url } from "./s3-client";
import { headObject, type Bucket } from "./s3-objects";
import { ProgressMeter, throttled, type TransferProgress } from "./transfer-progress";

export interface DownloadOptions {
  bucket: Bucket;
  key: string;
  /** The file to create (its folder must exist); an existing file is never replaced. */
  target: string;
  /** Needed for an encrypted object. */
  masterKey?: Buffer | null;
  /** The SHA-256 (hex) the content must have; default: the object's `sha256` metadata. */
  expectedSha256?: string;
  /** Attempts in this call, each resuming where the previous one stopped (default 4). */
  attempts?: number;
  signal?: AbortSignal;
  onProgress?: (p: TransferProgress) => void;
}

export interface DownloadResult {
  target: string;
  size: number;
  sha256: string;
  encrypted: boolean;
  /** Plaintext bytes that were already there from an earlier, interrupted download. */
  resumedFrom: number;
  attempts: number;
}

/** A failure that retrying can't mend (damage, wrong key, a changed object): the partial file is dropped. */
class Unrecoverable extends Error {}

export async function downloadObject(opts: DownloadOptions): Promise<DownloadResult> {
  const { bucket: b, key, signal } = opts;
  const where = s3Url(b.dest.bucket, key);
  const what = `Downloading ${where} to ${opts.target}`;
  const report = throttled(opts.onProgress);
  const head = await headObject(b, key, signal);
  if (!head) throw new OffsiteError("not-found", `${what} failed: the object is not in the bucket.`);
  const encrypted = head.Metadata?.[META.encrypted] === "1" || key.endsWith(ENCRYPTED_SUFFIX);
  if (encrypted && !opts.masterKey) throw new CipherError(`${where} is encrypted: the passphrase is needed to download it.`);
  const expectedSha = opts.expectedSha256 ?? head.Metadata?.[META.sha256];
  if (!expectedSha) throw new OffsiteError("other", `${what} was refused: the object has no SHA-256 to check it against (it was not uploaded by Strongbox).`);
  const objectSize = head.ContentLength ?? 0;
  const plainSize = Number(head.Metadata?.[META.size] ?? (encrypted ? NaN : objectSize));
  if (!Number.isSafeInteger(plainSize)) throw new OffsiteError("other", `${what} was refused: the object does not say its size (metadata ${META.size}).`);
  const etag = head.ETag ?? "";
  if (!encrypted && objectSize !== plainSize) {
    throw new OffsiteError("other", `${what} was refused: the object has ${objectSize} bytes but ${plainSize} were uploaded (the copy in the bucket is damaged).`);
  }

  if (await fs.lstat(opts.target).then(() => true, () => false)) {
    throw new OffsiteError("other", `${what} was refused: ${opts.target} already exists and is not replaced.`);
  }
  const dir = path.dirname(opts.target);
  const base = path.basename(opts.target);
  const tag = crypto.createHash("sha256").update(`${key}\n${etag}`).digest("hex").slice(0, 12);
  const partial = path.join(dir, `.${base}.${tag}.download`);
  // Partial files of another version of the object (or another object under this name) can't be resumed.
  const names = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    throw new OffsiteError("other", `${what} failed: the folder ${dir} can't be read (${err.code}).`, { cause: err });
  });
  for (const n of names) {
    if (n.startsWith(`.${base}.`) && n.endsWith(".download") && n !== path.basename(partial)) await fs.rm(path.join(dir, n), { force: true });
  }
  let fh: FileHandle;
  try {
    fh = await fs.open(partial, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    throw new OffsiteError("other", `${what} failed: ${partial} can't be written (${(err as NodeJS.ErrnoException).code}).`, { cause: err });
  }
  let resumedFrom = 0;
  let attempt = 0;
  const maxAttempts = opts.attempts ?? 4;
  let keepPartial = true;
  try {
    let chunkBytes = 0;
    let header: Buffer | null = null;
    for (;;) {
      attempt++;
      // Where to go on: whole plaintext bytes already written (whole chunks when encrypted), hashed again.
      let have = (await fh.stat()).size;
      if (have > plainSize) have = 0;
      if (encrypted && have > 0) {
        if (!header) header = await getRange(b, key, etag, 0, HEADER_BYTES - 1, signal);
        chunkBytes = header.readUInt32BE(24);
        have = Math.floor(have / chunkBytes) * chunkBytes;
        if (have >= plainSize) have = Math.max(0, have - chunkBytes); // the last chunk is always fetched, for its "last" tag
      }
      await fh.truncate(have);
      if (attempt === 1) resumedFrom = have;
      const hash = await hashPrefix(fh, have, signal);
      const objectOffset = encrypted && have > 0 ? sealedChunkOffset(have / chunkBytes, chunkBytes) : encrypted ? 0 : have;
      const meter = new ProgressMeter("downloading", objectSize, objectOffset);
      report.flush(() => meter.snapshot());
      try {
        if (objectOffset < objectSize || objectSize === 0) {
          const r = await b.client.send(new GetObjectCommand({
            Bucket: b.dest.bucket, Key: key, IfMatch: etag || undefined, Range: objectOffset > 0 ? `bytes=${objectOffset}-` : undefined,
          }), { abortSignal: signal });
          let position = have;
          const body = r.Body as Readable;
          const counted = new Transform({
            transform(c: Buffer, _enc, done) {
              meter.add(c.length);
              report.push(() => meter.snapshot());
              done(null, c);
            },
          });
          const write = async function* (source: AsyncIterable<Buffer>) {
            for await (const chunk of source) {
              if (position + chunk.length > plainSize) throw new Unrecoverable(`the object holds more than the ${plainSize} bytes recorded`);
              hash.update(chunk);
              for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off, chunk.length - off, position + off)).bytesWritten;
              position += chunk.length;
            }
          };
          if (encrypted) {
            const dec = new ChunkDecryptor(opts.masterKey!, have > 0 ? { header: header!, startChunk: have / chunkBytes } : {});
            await pipeline(body, counted, dec, write, { signal });
          } else {
            await pipeline(body, counted, write, { signal });
          }
        }
        signal?.throwIfAborted(); // a Stop that ended the body early is a Stop, not a short object
        const size = (await fh.stat()).size;
        if (size !== plainSize) throw new Unrecoverable(`it gave ${size} bytes instead of the ${plainSize} recorded (the copy in the bucket is truncated)`);
        const sha = hash.digest("hex");
        if (sha !== expectedSha) throw new Unrecoverable(`its content does not match its SHA-256 (${sha} instead of ${expectedSha}): the copy in the bucket is damaged`);
        await fh.sync();
        await fh.close().catch(() => undefined);
        try {
          await fs.link(partial, opts.target);
        } catch (err) {
          throw new OffsiteError("other", `${what} failed: ${opts.target} can't be created (${(err as NodeJS.ErrnoException).code}).`, { cause: err });
        }
        await fs.rm(partial, { force: true });
        await fsyncDir(dir);
        keepPartial = false;
        report.flush(() => meter.snapshot());
        return { target: opts.target, size: plainSize, sha256: sha, encrypted, resumedFrom, attempts: attempt };
      } catch (err) {
        if (err instanceof Unrecoverable) throw err;
        if (err instanceof CipherError) throw new Unrecoverable(err.message);
        const { kind, code } = classifyS3Error(err, signal);
        if (code === "PreconditionFailed") throw new Unrecoverable("the object was replaced in the bucket while it was being downloaded");
        if (kind === "stopped" || signal?.aborted || attempt >= maxAttempts || isOffsiteError(err) || !["connection", "timeout", "other"].includes(kind)) {
          throw err;
        }
        // A dropped connection or a server error: go on from what arrived, after a short pause.
        await new Promise((r) => setTimeout(r, Math.min(8_000, 500 * 2 ** attempt)));
      }
    }
  } catch (err) {
    if (err instanceof Unrecoverable) {
      keepPartial = false;
      throw new OffsiteError("other", `${what} failed: ${err.message.replace(/\.$/, "")}. Nothing was kept.`);
    }
    throw offsiteError(err, what, b.dest, signal);
  } finally {
    await fh.close().catch(() => undefined);
    if (!keepPartial) await fs.rm(partial, { force: true }).catch(() => undefined);
  }
}

async function getRange(b: Bucket, key: string, etag: string, from: number, to: number, signal?: AbortSignal): Promise<Buffer> {
  const r = await b.client.send(new GetObjectCommand({ Bucket: b.dest.bucket, Key: key, IfMatch: etag || undefined, Range: `bytes=${from}-${to}` }),
    { abortSignal: signal });
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** A SHA-256 already fed with the first `length` bytes of the file (the part an earlier attempt wrote). */
async function hashPrefix(fh: FileHandle, length: number, signal?: AbortSignal): Promise<crypto.Hash> {
  const hash = crypto.createHash("sha256");
  const buf = Buffer.allocUnsafe(4 << 20);
  for (let pos = 0; pos < length; ) {
    signal?.throwIfAborted();
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, length - pos), pos);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return hash;
}

