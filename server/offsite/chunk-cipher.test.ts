// The chunk cipher on its own: round trips at every boundary, fed in pieces of any size; the same file id gives
// the same bytes (what lets an encrypted upload resume); and truncation, reordering, a flipped bit or a wrong key
// are refused rather than decrypted into something else.
import crypto from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import {
  ChunkCipher, ChunkDecryptor, CipherError, chunkCount, deriveMasterKey, encryptedSize, HEADER_BYTES, keyCheckOf, keyMatches, newFileId,
  newKdfParams, passphraseProblem, TAG_BYTES,
} from "./chunk-cipher";

const CHUNK = 1024;
const master = crypto.randomBytes(32);

function encrypt(plain: Buffer, key = master, fileId = newFileId()): Buffer {
  const c = new ChunkCipher(key, fileId, CHUNK);
  const n = chunkCount(plain.length, CHUNK);
  const out = [c.header];
  for (let i = 0; i < n; i++) out.push(c.seal(i, i === n - 1, plain.subarray(i * CHUNK, (i + 1) * CHUNK)));
  return Buffer.concat(out);
}

/** Decrypts through the stream, fed in random pieces. */
async function decrypt(sealed: Buffer, key = master, opts: { header?: Buffer; startChunk?: number } = {}): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let off = 0; off < sealed.length; ) {
    const n = 1 + crypto.randomInt(3 * CHUNK);
    pieces.push(sealed.subarray(off, off + n));
    off += n;
  }
  const out: Buffer[] = [];
  await pipeline(Readable.from(pieces), new ChunkDecryptor(key, opts), async function* (src: AsyncIterable<Buffer>) {
    for await (const c of src) out.push(c);
  });
  return Buffer.concat(out);
}

describe("chunk cipher", () => {
  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5]) {
    it(`round trip of ${size} bytes, with the size encryptedSize predicts`, async () => {
      const plain = crypto.randomBytes(size);
      const sealed = encrypt(plain);
      expect(sealed.length).toBe(encryptedSize(size, CHUNK));
      expect((await decrypt(sealed)).equals(plain)).toBe(true);
    });
  }

  it("is deterministic for a given key and file id (an interrupted encrypted upload can resend any part)", () => {
    const plain = crypto.randomBytes(5 * CHUNK + 3);
    const id = newFileId();
    expect(encrypt(plain, master, id).equals(encrypt(plain, master, id))).toBe(true);
    expect(encrypt(plain, master, id).equals(encrypt(plain, master, newFileId()))).toBe(false);
  });

  it("decrypts from a later chunk given the header (a resumed download)", async () => {
    const plain = crypto.randomBytes(4 * CHUNK + 10);
    const sealed = encrypt(plain);
    const from = HEADER_BYTES + 2 * (CHUNK + TAG_BYTES);
    const rest = await decrypt(sealed.subarray(from), master, { header: sealed.subarray(0, HEADER_BYTES), startChunk: 2 });
    expect(rest.equals(plain.subarray(2 * CHUNK))).toBe(true);
  });

  it("refuses an object cut at a chunk boundary, chunks swapped, a flipped bit, or another key", async () => {
    const plain = crypto.randomBytes(3 * CHUNK);
    const sealed = encrypt(plain);
    const s = CHUNK + TAG_BYTES;
    await expect(decrypt(sealed.subarray(0, HEADER_BYTES + 2 * s))).rejects.toThrow(/at its end \(chunk 1\): it is truncated/);
    const swapped = Buffer.concat([sealed.subarray(0, HEADER_BYTES), sealed.subarray(HEADER_BYTES + s, HEADER_BYTES + 2 * s),
      sealed.subarray(HEADER_BYTES, HEADER_BYTES + s), sealed.subarray(HEADER_BYTES + 2 * s)]);
    await expect(decrypt(swapped)).rejects.toThrow(/Chunk 0 .* does not check out/);
    const flipped = Buffer.from(sealed);
    flipped[HEADER_BYTES + s + 7] ^= 1;
    await expect(decrypt(flipped)).rejects.toThrow(/Chunk 1 .* does not check out/);
    const header = Buffer.from(sealed);
    header[10] ^= 1; // the file id: every chunk's key and additional data change
    await expect(decrypt(header)).rejects.toThrow(CipherError);
    await expect(decrypt(sealed, crypto.randomBytes(32))).rejects.toThrow(/not encrypted with this key/);
    await expect(decrypt(sealed.subarray(0, 10))).rejects.toThrow(/shorter than its header/);
    await expect(decrypt(Buffer.from("PK\x03\x04 a plain zip, not ours.................."))).rejects.toThrow(/not encrypted by Strongbox/);
  });

  it("derives the key from a passphrase with scrypt, and the key check tells a wrong passphrase", async () => {
    const kdf = newKdfParams();
    const key = await deriveMasterKey("correct horse battery", kdf);
    const check = keyCheckOf(key);
    expect(check).toMatch(/^[0-9a-f]{64}$/);
    expect(keyMatches(await deriveMasterKey("correct horse battery", kdf), check)).toBe(true);
    expect(keyMatches(await deriveMasterKey("correct horse batterY", kdf), check)).toBe(false);
    expect(keyMatches(await deriveMasterKey("correct horse battery", newKdfParams()), check)).toBe(false);
    expect(passphraseProblem("short")).toMatch(/at least 8 characters/);
    expect(passphraseProblem("long enough")).toBeNull();
    await expect(deriveMasterKey("x".repeat(10), { ...kdf, N: 1 << 30 })).rejects.toThrow(/not one this Strongbox uses/);
  });
});
