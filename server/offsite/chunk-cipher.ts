// Client-side encryption of what goes to the bucket (the local ZIP stays a plain ZIP): AES-256-GCM over fixed-size
// chunks, so that any size streams through a bounded buffer and a damaged, truncated or reordered object is
// refused chunk by chunk.
//
// Object format: a 32-byte header — "SBXENC" 0x00 0x01, a random 16-byte file id, the plaintext chunk size (u32,
// big-endian), 4 zero bytes — then one sealed chunk per `chunkSize` bytes of plaintext (the last one shorter, and
// at least one chunk even for an empty file), each the ciphertext followed by its 16-byte tag.
// - Keys: scrypt(passphrase, salt) gives the master key (the salt and cost are in the bucket's strongbox.json);
//   each object's own key is HKDF(master, file id). A key check (an HMAC under another key derived from the master)
//   lets a wrong passphrase be refused before anything is decrypted.
// - Nonce: the chunk's index (unique within an object, and each object has its own key).
// - Additional data: the header, the chunk's index and a "last chunk" flag — so chunks can't be moved, dropped at
//   the end or spliced from another object without the tag failing.
// The output is a function of (master key, file id, plaintext): an interrupted encrypted upload resumes by
// persisting the file id and re-encrypting the parts still to send.
import crypto from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

export const HEADER_BYTES = 32;
export const TAG_BYTES = 16;
export const DEFAULT_CHUNK_BYTES = 1 << 20;
const MAGIC = Buffer.from([0x53, 0x42, 0x58, 0x45, 0x4e, 0x43, 0x00, 0x01]); // "SBXENC" 0 1
const FILE_ID_BYTES = 16;
const MIN_PASSPHRASE = 8;

/** The key derivation's parameters, as strongbox.json stores them. */
export interface KdfParams {
  name: "scrypt";
  /** base64 */
  salt: string;
  N: number;
  r: number;
  p: number;
}

/** N = 2^15, r = 8: 32 MiB and about 0.1 s per derivation here — a derivation per start or recovery, not per object. */
export function newKdfParams(): KdfParams {
  return { name: "scrypt", salt: crypto.randomBytes(16).toString("base64"), N: 1 << 15, r: 8, p: 1 };
}

export class CipherError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CipherError";
  }
}

/** Why a passphrase can't be used, or null. */
export function passphraseProblem(passphrase: string): string | null {
  if (typeof passphrase !== "string" || [...passphrase].length < MIN_PASSPHRASE) return `The passphrase must have at least ${MIN_PASSPHRASE} characters.`;
  return null;
}

/** The master key from the passphrase (scrypt, off the event loop). */
export async function deriveMasterKey(passphrase: string, kdf: KdfParams): Promise<Buffer> {
  if (kdf.name !== "scrypt" || ![kdf.N, kdf.r, kdf.p].every((n) => Number.isSafeInteger(n) && n > 0) || kdf.N > 1 << 20 || kdf.r > 32 || kdf.p > 16) {
    throw new CipherError(`The key derivation ${JSON.stringify(kdf)} is not one this Strongbox uses (scrypt with N ≤ 2^20, r ≤ 32, p ≤ 16).`);
  }
  const salt = Buffer.from(kdf.salt, "base64");
  const maxmem = 256 * kdf.N * kdf.r + (1 << 20);
  return new Promise((resolve, reject) => {
    crypto.scrypt(passphrase.normalize("NFC"), salt, 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

const hkdf = (key: Buffer, salt: Buffer, info: string) => Buffer.from(crypto.hkdfSync("sha256", key, salt, Buffer.from(info, "utf8"), 32));

/** The key check stored in strongbox.json (hex): reveals nothing of the key, and tells a wrong passphrase at once. */
export function keyCheckOf(master: Buffer): string {
  const checkKey = hkdf(master, Buffer.alloc(0), "strongbox offsite key check v1");
  return crypto.createHmac("sha256", checkKey).update("strongbox offsite key check v1").digest("hex");
}

export function keyMatches(master: Buffer, keyCheck: string): boolean {
  const mine = Buffer.from(keyCheckOf(master), "hex");
  const theirs = Buffer.from(keyCheck, "hex");
  return mine.length === theirs.length && crypto.timingSafeEqual(mine, theirs);
}

export const newFileId = () => crypto.randomBytes(FILE_ID_BYTES);

export function chunkCount(plainSize: number, chunkBytes: number): number {
  return Math.max(1, Math.ceil(plainSize / chunkBytes));
}

/** Bytes of the encrypted object for `plainSize` bytes of plaintext. */
export function encryptedSize(plainSize: number, chunkBytes = DEFAULT_CHUNK_BYTES): number {
  return HEADER_BYTES + plainSize + chunkCount(plainSize, chunkBytes) * TAG_BYTES;
}

/** Where chunk `index` starts in the encrypted object. */
export const sealedChunkOffset = (index: number, chunkBytes: number) => HEADER_BYTES + index * (chunkBytes + TAG_BYTES);

export function parseHeader(header: Buffer): { fileId: Buffer; chunkBytes: number } {
  if (header.length < HEADER_BYTES || !header.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new CipherError("This object is not encrypted by Strongbox (its header is not SBXENC format 1).");
  }
  const chunkBytes = header.readUInt32BE(24);
  if (chunkBytes < 1024 || chunkBytes > 64 << 20) throw new CipherError(`The encrypted object's header gives a chunk size of ${chunkBytes} bytes, which is not plausible: it is damaged.`);
  return { fileId: Buffer.from(header.subarray(8, 8 + FILE_ID_BYTES)), chunkBytes };
}

/** One object's encryption: header, and chunks sealed or opened by index. */
export class ChunkCipher {
  readonly header: Buffer;
  private readonly key: Buffer;

  constructor(master: Buffer, readonly fileId: Buffer, readonly chunkBytes = DEFAULT_CHUNK_BYTES) {
    if (master.length !== 32) throw new Error("The master key must be 32 bytes.");
    if (fileId.length !== FILE_ID_BYTES) throw new Error(`The file id must be ${FILE_ID_BYTES} bytes.`);
    this.header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(this.header, 0);
    fileId.copy(this.header, 8);
    this.header.writeUInt32BE(chunkBytes, 24);
    this.key = hkdf(master, fileId, "strongbox offsite chunk key v1");
  }

  /** For an object's header as read from the bucket. */
  static fromHeader(master: Buffer, header: Buffer): ChunkCipher {
    const { fileId, chunkBytes } = parseHeader(header);
    return new ChunkCipher(master, fileId, chunkBytes);
  }

  private params(index: number, last: boolean): { nonce: Buffer; aad: Buffer } {
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64BE(BigInt(index), 4);
    const aad = Buffer.alloc(HEADER_BYTES + 9);
    this.header.copy(aad, 0);
    aad.writeBigUInt64BE(BigInt(index), HEADER_BYTES);
    aad[HEADER_BYTES + 8] = last ? 1 : 0;
    return { nonce, aad };
  }

  seal(index: number, last: boolean, plain: Buffer): Buffer {
    if (plain.length > this.chunkBytes || (!last && plain.length !== this.chunkBytes)) throw new Error(`chunk ${index} has ${plain.length} bytes`);
    const { nonce, aad } = this.params(index, last);
    const c = crypto.createCipheriv("aes-256-gcm", this.key, nonce);
    c.setAAD(aad);
    return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  }

  open(index: number, last: boolean, sealed: Buffer): Buffer {
    if (sealed.length < TAG_BYTES) throw new CipherError(`Chunk ${index} of the encrypted object is cut short: the object is truncated.`);
    const { nonce, aad } = this.params(index, last);
    const d = crypto.createDecipheriv("aes-256-gcm", this.key, nonce);
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_BYTES)), d.final()]);
    } catch {
      throw new CipherError(last
        ? `The encrypted object does not check out at its end (chunk ${index}): it is truncated or damaged, or was not encrypted with this key.`
        : `Chunk ${index} of the encrypted object does not check out: the object is damaged, or was not encrypted with this key.`);
    }
  }
}

/**
 * Decrypts an encrypted object's bytes as they stream, from chunk `startChunk` on (0 with the header first in the
 * stream; later, for a resumed download, with the header given and the stream starting at that chunk). Holds at
 * most one sealed chunk plus what arrived: a full chunk is only opened once more bytes show it isn't the last.
 */
export class ChunkDecryptor extends Transform {
  private cipher: ChunkCipher | null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private index: number;

  constructor(private readonly master: Buffer, opts: { header?: Buffer; startChunk?: number } = {}) {
    super();
    this.cipher = opts.header ? ChunkCipher.fromHeader(master, opts.header) : null;
    this.index = opts.startChunk ?? 0;
    if (this.index > 0 && !this.cipher) throw new Error("A decryption that starts after chunk 0 needs the header.");
  }

  private takeBytes(n: number): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length ? [rest] : [];
    this.pendingBytes = rest.length;
    return out;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (!this.cipher) {
        if (this.pendingBytes < HEADER_BYTES) return done();
        this.cipher = ChunkCipher.fromHeader(this.master, this.takeBytes(HEADER_BYTES));
      }
      const sealedBytes = this.cipher.chunkBytes + TAG_BYTES;
      // Strictly more than a chunk: the one at the front is not the last.
      while (this.pendingBytes > sealedBytes) this.push(this.cipher.open(this.index++, false, this.takeBytes(sealedBytes)));
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (!this.cipher) throw new CipherError("The encrypted object is shorter than its header: it is truncated.");
      this.push(this.cipher.open(this.index++, true, this.takeBytes(this.pendingBytes)));
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  /** Chunks fully decrypted so far (the index of the next one). */
  get chunksDone(): number {
    return this.index;
  }
}
