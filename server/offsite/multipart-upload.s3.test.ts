// Uploads to a real S3 server (Ceph's RADOS Gateway): multipart with a checksum per part and the SHA-256 as
// metadata, no second upload of the same content, resumption after the uploading process is killed (SIGKILL) and
// after the gateway goes away mid-upload, Stop, and the cleanup of abandoned multipart uploads.
import { CreateMultipartUploadCommand, GetObjectCommand, ListMultipartUploadsCommand, UploadPartCommand } from "@aws-sdk/client-s3";
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openConsoleDb, type ConsoleDb } from "../console/console-db";
import { freshBucket, startGateway, stopGateway } from "../../test/s3/s3-server";
import { downloadObject } from "./download";
import { abortAbandonedUploads, META, uploadFile } from "./multipart-upload";
import { isOffsiteError } from "./s3-client";
import type { Bucket } from "./s3-objects";
import { UploadStateStore } from "./upload-state";

const MiB = 1 << 20;
const PART = 5 * MiB;
let dir: string;
let db: ConsoleDb;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-upload-"));
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

async function objectBytes(b: Bucket, key: string): Promise<Buffer> {
  const r = await b.client.send(new GetObjectCommand({ Bucket: b.dest.bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

async function openUploads(b: Bucket): Promise<string[]> {
  const r = await b.client.send(new ListMultipartUploadsCommand({ Bucket: b.dest.bucket }));
  return (r.Uploads ?? []).map((u) => u.UploadId!);
}

describe("uploadFile", () => {
  it("sends a large file in parts, with its SHA-256 as metadata, and sends nothing the second time", async () => {
    const b = await freshBucket();
    const { file, data } = localFile("a.zip", 23 * MiB);
    const progress: number[] = [];
    const r = await uploadFile({ bucket: b, db, key: "x/a.zip", file, partBytes: PART, onProgress: (p) => p.stage === "uploading" && progress.push(p.bytesDone) });
    expect(r).toMatchObject({ outcome: "uploaded", sha256: sha256(data), size: data.length, objectSize: data.length, partsSent: 5, encrypted: false });
    expect(progress.at(-1)).toBe(data.length);
    expect(sha256(await objectBytes(b, "x/a.zip"))).toBe(sha256(data));
    const again = await uploadFile({ bucket: b, db, key: "x/a.zip", file, partBytes: PART });
    expect(again).toMatchObject({ outcome: "already-there", partsSent: 0, bytesSent: 0 });
    expect(new UploadStateStore(db).list(b.dest.endpoint, b.dest.bucket)).toEqual([]);
    expect(await openUploads(b)).toEqual([]);
  });

  it("a small file goes in one request, with the same metadata", async () => {
    const b = await freshBucket();
    const { file, data } = localFile("small.4BL", 1000);
    const r = await uploadFile({ bucket: b, db, key: "s.4BL", file, partBytes: PART });
    expect(r).toMatchObject({ outcome: "uploaded", partsSent: 1, objectSize: 1000 });
    const { HeadObjectCommand } = await import("@aws-sdk/client-s3");
    const head = await b.client.send(new HeadObjectCommand({ Bucket: b.dest.bucket, Key: "s.4BL" }));
    expect(head.Metadata).toMatchObject({ [META.sha256]: sha256(data), [META.size]: "1000", [META.encrypted]: "0" });
  });

  it("a part whose bytes change on the way is refused by the server (its SHA-256 is the signed payload hash), and sent again next time", async () => {
    const b = await freshBucket();
    const { file, data } = localFile("a.zip", 12 * MiB);
    // Part 2's body is altered after its SHA-256 was taken, with a Content-MD5 that matches the altered bytes: only
    // the SHA-256 can tell.
    let altered = false;
    b.client.middlewareStack.add((next) => async (args) => {
      const req = args.request as { body?: Buffer; headers: Record<string, string> };
      if ((args.input as { PartNumber?: number }).PartNumber === 2 && !altered && Buffer.isBuffer(req.body)) {
        altered = true;
        const body = Buffer.from(req.body);
        body[1000] ^= 0xff;
        req.body = body;
        req.headers["content-md5"] = crypto.createHash("md5").update(body).digest("base64");
      }
      return next(args);
    }, { step: "build", name: "alterPart2", priority: "low" });
    const failed = await uploadFile({ bucket: b, db, key: "a.zip", file, partBytes: PART, concurrency: 1 }).catch((e) => e);
    expect(altered).toBe(true);
    expect(failed).toMatchObject({ code: "XAmzContentSHA256Mismatch" });
    expect(failed.message).toMatch(/1 of 3 parts are in the bucket/);
    const r = await uploadFile({ bucket: b, db, key: "a.zip", file, partBytes: PART, concurrency: 1 });
    expect(r).toMatchObject({ outcome: "resumed", partsSent: 2 });
    expect((await objectBytes(b, "a.zip")).equals(data)).toBe(true);
  });

  it("never replaces another file at the same key unasked", async () => {
    const b = await freshBucket();
    const first = localFile("one.zip", 2000);
    await uploadFile({ bucket: b, db, key: "k.zip", file: first.file });
    const second = localFile("two.zip", 3000);
    const refused = await uploadFile({ bucket: b, db, key: "k.zip", file: second.file }).catch((e) => e);
    expect(isOffsiteError(refused)).toBe(true);
    expect(refused.message).toMatch(/already holds another file .* It is not replaced/);
    expect(await objectBytes(b, "k.zip")).toEqual(first.data);
  });

  for (const encrypted of [false, true]) {
    it(`resumes after the uploading process is killed mid-upload, sending only the parts the bucket lacks${encrypted ? " (encrypted: the same file id)" : ""}`, async () => {
      const b = await freshBucket();
      const masterKey = encrypted ? crypto.randomBytes(32) : null;
      const { file, data } = localFile("big.zip", 23 * MiB);
      const consoleDb = path.join(dir, "console.sqlite");
      // Parts 1 and 2 recorded; part 3 reached the server but the answer never came back; 4 and 5 never sent.
      const child = spawn(process.execPath, ["--import", "tsx", path.resolve("test/s3/upload-child.ts")], {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, UPLOAD_CHILD: JSON.stringify({ dest: b.dest, consoleDb, file, key: "db/big.zip", partBytes: PART, holdAfter: 3,
          masterKey: masterKey?.toString("hex") }) },
      });
      // Listened for from the start: an exit before the kill must not be missed (the wait would never end).
      const exited = new Promise((r) => child.once("exit", r));
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      await expect.poll(() => out, { timeout: 60_000 }).toMatch(/(?=[\s\S]*PART 1)(?=[\s\S]*PART 2)(?=[\s\S]*SERVER-HAS 3)/);
      child.kill("SIGKILL");
      await exited;
      expect(out).not.toContain("DONE");

      const store = new UploadStateStore(db);
      const [state] = store.list(b.dest.endpoint, b.dest.bucket);
      expect(state).toMatchObject({ key: "db/big.zip", sha256: sha256(data), partSize: PART });
      expect(state!.cipherFileId !== null).toBe(encrypted);
      expect([...store.parts(state!.uploadId).keys()].sort()).toEqual([1, 2]);

      const r = await uploadFile({ bucket: b, db, key: "db/big.zip", file, partBytes: PART, masterKey });
      expect(r).toMatchObject({ outcome: "resumed", partsSent: 2, encrypted }); // 4 and 5; part 3 was found in the bucket and checked
      expect(store.list(b.dest.endpoint, b.dest.bucket)).toEqual([]);
      expect(await openUploads(b)).toEqual([]);
      if (encrypted) {
        const target = path.join(dir, "back.zip");
        await downloadObject({ bucket: b, key: "db/big.zip", target, masterKey });
        expect(fs.readFileSync(target).equals(data)).toBe(true);
      } else {
        expect((await objectBytes(b, "db/big.zip")).equals(data)).toBe(true);
      }
    });
  }

  it("resumes after the S3 gateway went away mid-upload and came back", async () => {
    const b = await freshBucket({ client: { maxAttempts: 2 } });
    const { file, data } = localFile("big.zip", 23 * MiB);
    // The gateway is stopped just before part 3 is sent: parts 1-2 are in, the rest fails to connect.
    let stopped = false;
    b.client.middlewareStack.add((next) => async (args) => {
      if ((args.input as { PartNumber?: number }).PartNumber === 3 && !stopped) {
        stopped = true;
        stopGateway();
      }
      return next(args);
    }, { step: "initialize", name: "stopGatewayAtPart3" });
    try {
      const failed = await uploadFile({ bucket: b, db, key: "big.zip", file, partBytes: PART, concurrency: 1 }).catch((e) => e);
      expect(stopped).toBe(true);
      expect(isOffsiteError(failed)).toBe(true);
      expect(failed.kind).toBe("connection");
      expect(failed.message).toMatch(/connection was refused.*2 of 5 parts are in the bucket; the upload resumes/s);
    } finally {
      startGateway();
    }
    const r = await uploadFile({ bucket: b, db, key: "big.zip", file, partBytes: PART, concurrency: 1 });
    expect(r).toMatchObject({ outcome: "resumed", partsSent: 3 });
    expect(sha256(await objectBytes(b, "big.zip"))).toBe(sha256(data));
  });

  for (const encrypted of [false, true]) {
    it(`Stop (an AbortSignal) ends the upload at once and leaves it resumable${encrypted ? " (encrypted)" : ""}`, async () => {
      const b = await freshBucket();
      const masterKey = encrypted ? crypto.randomBytes(32) : null;
      const { file, data } = localFile("big.zip", 23 * MiB);
      const stop = new AbortController();
      const failed = await uploadFile({ bucket: b, db, key: "big.zip", file, partBytes: PART, concurrency: 1, masterKey,
        onPart: (n) => n === 2 && stop.abort(), signal: stop.signal }).catch((e) => e);
      expect(failed).toMatchObject({ kind: "stopped" });
      expect(failed.message).toMatch(/was stopped.*2 of 5 parts are in the bucket/s);
      const r = await uploadFile({ bucket: b, db, key: "big.zip", file, partBytes: PART, masterKey });
      expect(r).toMatchObject({ outcome: "resumed", partsSent: 3 });
      const target = path.join(dir, "back.zip");
      await downloadObject({ bucket: b, key: "big.zip", target, masterKey });
      expect(fs.readFileSync(target).equals(data)).toBe(true);
    });
  }
});

describe("uploadFile, encrypted, when the key changed between two attempts", () => {
  it("starts the upload again rather than mixing parts made with two keys", async () => {
    const b = await freshBucket();
    const { file, data } = localFile("big.zip", 12 * MiB);
    const stop = new AbortController();
    const oldKey = crypto.randomBytes(32);
    await uploadFile({ bucket: b, db, key: "big.zip", file, partBytes: PART, concurrency: 1, masterKey: oldKey,
      onPart: () => stop.abort(), signal: stop.signal }).catch(() => undefined);
    const before = new UploadStateStore(db).list(b.dest.endpoint, b.dest.bucket)[0]!.uploadId;
    const newKey = crypto.randomBytes(32);
    const r = await uploadFile({ bucket: b, db, key: "big.zip", file, partBytes: PART, masterKey: newKey });
    expect(r).toMatchObject({ outcome: "uploaded", partsSent: 3 });
    expect(await openUploads(b)).not.toContain(before);
    const target = path.join(dir, "back.zip");
    await downloadObject({ bucket: b, key: "big.zip", target, masterKey: newKey });
    expect(fs.readFileSync(target).equals(data)).toBe(true);
  });
});

describe("abortAbandonedUploads", () => {
  it("aborts the uploads console.sqlite does not know, and known ones only once too old; nothing outside the prefix", async () => {
    const b = await freshBucket();
    const bucket = b.dest.bucket;
    const started = async (key: string) => {
      const u = await b.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      await b.client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: u.UploadId, PartNumber: 1, Body: Buffer.alloc(1000) }));
      return u.UploadId!;
    };
    const unknown = await started("strongbox/db/lost.zip");
    const elsewhere = await started("other-app/file.bin");
    // A known one: an upload stopped after its first part.
    const { file } = localFile("big.zip", 12 * MiB);
    const stop = new AbortController();
    await uploadFile({ bucket: b, db, key: "strongbox/db/known.zip", file, partBytes: PART, concurrency: 1, onPart: () => stop.abort(), signal: stop.signal }).catch(() => undefined);
    const store = new UploadStateStore(db);
    const known = store.list(b.dest.endpoint, bucket)[0]!.uploadId;
    expect(new Set(await openUploads(b))).toEqual(new Set([unknown, elsewhere, known]));

    // Within the grace period nothing unknown is touched (another process may be starting it).
    expect(await abortAbandonedUploads({ bucket: b, db, prefix: "strongbox/" })).toEqual([]);
    const first = await abortAbandonedUploads({ bucket: b, db, prefix: "strongbox/", unknownGraceMs: 0 });
    expect(first).toEqual([expect.objectContaining({ uploadId: unknown, key: "strongbox/db/lost.zip", why: "unknown" })]);
    expect(new Set(await openUploads(b))).toEqual(new Set([elsewhere, known]));

    // A record whose upload the server no longer has (aborted by hand, a lifecycle rule) is dropped too.
    store.insert({ ...store.list(b.dest.endpoint, bucket)[0]!, uploadId: "gone-upload", key: "strongbox/db/gone.zip", createdAt: new Date(Date.now() - 1000).toISOString() });
    await abortAbandonedUploads({ bucket: b, db, prefix: "strongbox/" });
    expect(store.byUploadId("gone-upload")).toBeNull();
    expect(store.byUploadId(known)).not.toBeNull();

    const later = new Date(Date.now() + 8 * 86_400_000);
    const second = await abortAbandonedUploads({ bucket: b, db, prefix: "strongbox/", now: later });
    expect(second).toEqual([expect.objectContaining({ uploadId: known, why: "too old" })]);
    expect(await openUploads(b)).toEqual([elsewhere]);
    expect(store.list(b.dest.endpoint, bucket)).toEqual([]);
  });
});
