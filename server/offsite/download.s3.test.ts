// Downloads from a real S3 server: client-side encryption round trip, a wrong passphrase refused before anything
// is read, damage detected (SHA-256, GCM tags) with nothing left behind, and resumption — after a Stop (a later
// call) and after a dropped connection (within the call).
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openConsoleDb, type ConsoleDb } from "../console/console-db";
import { freshBucket } from "../../test/s3/s3-server";
import { BucketLayout, prepareBucket, readBucketManifest, unlockBucket } from "./bucket-layout";
import { CipherError, encryptedSize } from "./chunk-cipher";
import { downloadObject } from "./download";
import { uploadFile } from "./multipart-upload";
import type { Bucket } from "./s3-objects";

const MiB = 1 << 20;
let dir: string;
let db: ConsoleDb;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-download-"));
  db = openConsoleDb(path.join(dir, "console.sqlite"));
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const sha256 = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");
function localFile(name: string, bytes: number): { file: string; data: Buffer } {
  const data = crypto.randomBytes(bytes);
  const file = path.join(dir, name);
  fs.writeFileSync(file, data);
  return { file, data };
}
const leftovers = (d: string) => fs.readdirSync(d).filter((n) => n.endsWith(".download"));

async function rawObject(b: Bucket, key: string): Promise<{ body: Buffer; metadata: Record<string, string> }> {
  const r = await b.client.send(new GetObjectCommand({ Bucket: b.dest.bucket, Key: key }));
  return { body: Buffer.from(await r.Body!.transformToByteArray()), metadata: r.Metadata ?? {} };
}

describe("client-side encryption", () => {
  it("an encrypted upload holds no plaintext, downloads back to the same bytes, and a wrong passphrase is refused before anything is read", async () => {
    const b = await freshBucket();
    const layout = new BucketLayout(b.dest.prefix);
    const { masterKey } = await prepareBucket(b, layout, { passphrase: "correct horse battery" });
    const { file, data } = localFile("a.zip", 13 * MiB + 12345);
    const r = await uploadFile({ bucket: b, db, key: "enc/a.zip.sbxenc", file, masterKey, partBytes: 5 * MiB });
    expect(r).toMatchObject({ encrypted: true, objectSize: encryptedSize(data.length), partsSent: 3 });
    const raw = await rawObject(b, "enc/a.zip.sbxenc");
    expect(raw.body.length).toBe(encryptedSize(data.length));
    expect(raw.body.subarray(0, 6).toString()).toBe("SBXENC");
    expect(raw.body.includes(data.subarray(1000, 1064))).toBe(false);

    // Recovery knows only the bucket and the passphrase.
    const manifest = (await readBucketManifest(b, layout))!;
    await expect(unlockBucket(manifest, "wrong passphrase", "s3://x/")).rejects.toThrow(/The passphrase is wrong/);
    await expect(unlockBucket(manifest, undefined, "s3://x/")).rejects.toThrow(/encrypted: give the passphrase/);
    const key = (await unlockBucket(manifest, "correct horse battery", "s3://x/"))!;
    const target = path.join(dir, "back.zip");
    const d = await downloadObject({ bucket: b, key: "enc/a.zip.sbxenc", target, masterKey: key });
    expect(d).toMatchObject({ encrypted: true, size: data.length, sha256: sha256(data), resumedFrom: 0 });
    expect(sha256(fs.readFileSync(target))).toBe(sha256(data));
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);
    // A second prepareBucket with another passphrase is refused: one prefix, one key.
    await expect(prepareBucket(b, layout, { passphrase: "another passphrase" })).rejects.toThrow(CipherError);
  });

  it("an encrypted object that was tampered with is refused, and nothing is left", async () => {
    const b = await freshBucket();
    const { masterKey } = await prepareBucket(b, new BucketLayout(b.dest.prefix), { passphrase: "correct horse battery" });
    const { file } = localFile("a.zip", 3 * MiB);
    await uploadFile({ bucket: b, db, key: "t.sbxenc", file, masterKey });
    const raw = await rawObject(b, "t.sbxenc");
    raw.body[2 * MiB] ^= 0x01;
    await b.client.send(new PutObjectCommand({ Bucket: b.dest.bucket, Key: "t.sbxenc", Body: raw.body, Metadata: raw.metadata }));
    const target = path.join(dir, "back.zip");
    await expect(downloadObject({ bucket: b, key: "t.sbxenc", target, masterKey })).rejects.toThrow(/Chunk 1 of the encrypted object does not check out: the object is damaged.*Nothing was kept\.$/s);
    expect(fs.existsSync(target)).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });
});

describe("downloadObject", () => {
  it("refuses a plain object whose content does not match its SHA-256, leaving nothing", async () => {
    const b = await freshBucket();
    const { file } = localFile("a.zip", 100_000);
    await uploadFile({ bucket: b, db, key: "a.zip", file });
    const raw = await rawObject(b, "a.zip");
    raw.body[500] ^= 0xff;
    await b.client.send(new PutObjectCommand({ Bucket: b.dest.bucket, Key: "a.zip", Body: raw.body, Metadata: raw.metadata }));
    const target = path.join(dir, "back.zip");
    await expect(downloadObject({ bucket: b, key: "a.zip", target })).rejects.toThrow(/does not match its SHA-256.*damaged/);
    expect(fs.existsSync(target)).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });

  for (const encrypted of [false, true]) {
    it(`${encrypted ? "encrypted" : "plain"}: a Stop keeps what arrived, and the next call asks only for the rest`, async () => {
      const b = await freshBucket();
      const masterKey = encrypted ? (await prepareBucket(b, new BucketLayout(b.dest.prefix), { passphrase: "correct horse battery" })).masterKey : null;
      const { file, data } = localFile("a.zip", 12 * MiB + 777);
      await uploadFile({ bucket: b, db, key: "a.zip", file, masterKey, partBytes: 5 * MiB });
      const target = path.join(dir, "back.zip");
      const stop = new AbortController();
      const removeHook = breakFirstBody(b, 5 * MiB, () => stop.abort());
      const stopped = await downloadObject({ bucket: b, key: "a.zip", target, masterKey, signal: stop.signal }).catch((e) => e);
      removeHook();
      expect(stopped).toMatchObject({ kind: "stopped" });
      expect(stopped.message).toMatch(/was stopped\.$/);
      expect(fs.existsSync(target)).toBe(false);
      expect(leftovers(dir)).toHaveLength(1);
      const d = await downloadObject({ bucket: b, key: "a.zip", target, masterKey });
      expect(d.resumedFrom).toBeGreaterThanOrEqual(2 * MiB);
      expect(d.sha256).toBe(sha256(data));
      expect(fs.readFileSync(target).equals(data)).toBe(true);
      expect(leftovers(dir)).toEqual([]);
    });
  }

  it("a connection dropped mid-body is resumed within the call", async () => {
    const b = await freshBucket();
    const { file, data } = localFile("a.zip", 9 * MiB);
    await uploadFile({ bucket: b, db, key: "a.zip", file, partBytes: 5 * MiB });
    breakFirstBody(b, 3 * MiB, () => {
      throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    });
    const target = path.join(dir, "back.zip");
    const d = await downloadObject({ bucket: b, key: "a.zip", target });
    expect(d.attempts).toBe(2);
    expect(d.resumedFrom).toBe(0);
    expect(fs.readFileSync(target).equals(data)).toBe(true);
  });
});

/**
 * The first GetObject's body calls `atBreak` once `after` bytes have gone through (a person pressing Stop, or a
 * reset connection when it throws), at a known point rather than after a guessed time. Returns a remover.
 */
function breakFirstBody(b: Bucket, after: number, atBreak: () => void): () => void {
  let done = false;
  const name = `breakBody${crypto.randomBytes(4).toString("hex")}`;
  b.client.middlewareStack.add((next, context) => async (args) => {
    const result = await next(args);
    if (context.commandName !== "GetObjectCommand" || done) return result;
    done = true;
    const out = result.output as { Body: Readable };
    const body = out.Body;
    let seen = 0;
    out.Body = Readable.from((async function* () {
      for await (const c of body) {
        yield c;
        seen += c.length;
        if (seen > after) {
          atBreak();
          body.destroy();
          // Stop: the download's own signal ends it; nothing more arrives on this body either way.
          return;
        }
      }
    })());
    return result;
  }, { step: "initialize", name });
  return () => b.client.middlewareStack.remove(name);
}
