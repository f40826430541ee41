// Off-site retention and Object Lock on a real S3 server: the last X archives kept with the log chain they need
// (recovery from what is left still gives the live data), and on a bucket with Object Lock every copy carries its
// retain-until date, which retention respects and the server enforces against Strongbox's own credentials.
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import { freshBucket } from "../../test/s3/s3-server";
import { liveDatabase, tables, type LiveDatabase } from "../../test/s3/live-database";
import { listArchives } from "./bucket-layout";
import { LogShipper } from "./log-shipping";
import { copyBackupOffsite } from "./offsite-copy";
import { uploadFile } from "./multipart-upload";
import { lockFor } from "./offsite-target";
import { recoverFromBucket } from "./recover";
import { applyOffsiteRetention } from "./retention";
import { deleteObjectForGood, listObjects } from "./s3-objects";

let live: LiveDatabase | null = null;
let scratch: string | null = null;
afterEach(async () => {
  await live?.close();
  live = null;
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  scratch = null;
});

describe("applyOffsiteRetention", () => {
  it("keeps the last X archives with their log chain, deletes the rest for good, and recovery still gives the live data", async () => {
    const b = await freshBucket();
    live = await liveDatabase(b.dest);
    const l = live;
    const target = await l.target();
    const shipper = new LogShipper({ log: l.shippable, bucket: target.bucket, layout: target.layout, db: target.db, databaseName: "TestDb",
      masterKey: null, intervalMs: 60_000 });
    for (let i = 1; i <= 4; i++) {
      await l.write(`round ${i}`, 6);
      await shipper.tick();
      await copyBackupOffsite(target, await l.backup());
    }
    await l.write("after", 5);
    await shipper.tick();
    const keysBefore = (await listObjects(target.bucket, target.layout.root)).map((o) => o.key);
    expect(keysBefore.filter((k) => k.includes("/archives/")).length).toBe(8);

    const r = await applyOffsiteRetention({ bucket: target.bucket, layout: target.layout, databaseName: "TestDb", keep: 2 });
    expect(r.oldestKept).toBe(3);
    expect(r.locked).toEqual([]);
    const keys = (await listObjects(target.bucket, target.layout.root)).map((o) => o.key);
    const archives = await listArchives(target.bucket, target.layout, "TestDb");
    expect(archives.map((a) => [a.number, !!a.summary, !!a.object])).toEqual([[3, true, true], [4, true, true]]);
    // Log backups [K] hold the operations after archive K's snapshot: those from 3 on stay, and [0002], written by
    // backup 3, stays with it.
    expect(keys.filter((k) => k.includes("/log-backups/")).map((k) => path.basename(k))).toEqual(["TestDb[0002].4BL", "TestDb[0003].4BL"]);
    const third = archives[0]!.summary!;
    const segments = keys.filter((k) => k.includes("/log/"));
    expect(segments.length).toBeGreaterThan(0);
    for (const k of segments) expect(Number(/-(\d+)\]/.exec(k)![1])).toBeGreaterThan(third.snapshotLastOperation!);
    expect(r.deleted.sort()).toEqual(keysBefore.filter((k) => !keys.includes(k)).sort());

    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-retention-"));
    const back = await recoverFromBucket({ bucket: target.bucket, prefix: target.dest.prefix, to: path.join(scratch, "db") });
    expect(back.archive.number).toBe(4);
    expect(tables(path.join(scratch, "db/Data/data.sqlite"))).toEqual(tables(l.t.dataFile));
    // Keeping everything deletes nothing.
    expect((await applyOffsiteRetention({ bucket: target.bucket, layout: target.layout, databaseName: "TestDb", keep: null })).deleted).toEqual([]);
  });
});

describe("Object Lock", () => {
  it("each copy carries its retain-until date; retention keeps locked copies; the server refuses their deletion", async () => {
    const b = await freshBucket({ objectLock: true });
    live = await liveDatabase(b.dest, { settings: { lockDays: 2, lockMode: "COMPLIANCE" } });
    const target = await live.target();
    expect(target.objectLock).toMatchObject({ enabled: true });
    const before = Date.now();
    expect(lockFor(target, new Date(before))).toMatchObject({ mode: "COMPLIANCE" });
    await live.write("A", 3);
    const first = await copyBackupOffsite(target, await live.backup());
    await live.write("B", 3);
    const second = await copyBackupOffsite(target, await live.backup());

    // On the summary (the Restore page shows it) and on the object itself, whole multipart uploads included.
    for (const copy of [first, second]) {
      expect(copy.summary.lock).toMatchObject({ mode: "COMPLIANCE" });
      const until = Date.parse(copy.summary.lock!.retainUntil);
      expect(until).toBeGreaterThan(before + 2 * 86_400_000 - 60_000);
      const head = await target.bucket.client.send(new HeadObjectCommand({ Bucket: target.dest.bucket, Key: copy.summary.object.key }));
      expect(head).toMatchObject({ ObjectLockMode: "COMPLIANCE" });
      expect(new Date(head.ObjectLockRetainUntilDate!).getTime()).toBe(until);
      for (const lb of copy.logBackups) expect(lb.lock).toMatchObject({ mode: "COMPLIANCE" });
    }
    expect(first.lines.join("\n")).toMatch(/Off-site copy : .* locked until \d{4}-/);

    const r = await applyOffsiteRetention({ bucket: target.bucket, layout: target.layout, databaseName: "TestDb", keep: 1 });
    expect(r.deleted).toEqual([]);
    // Archive 1 (its summary is locked: the archive behind it is not even tried) and the log backup that goes with
    // it, [0000].4BL, which backup 1 wrote; [0001].4BL, written by backup 2, stays with archive 2 (a backup is its
    // archive and the log backup it wrote).
    expect(r.locked).toEqual([
      { key: "strongbox/TestDb/archives/TestDb[0001].json", retainUntil: first.summary.lock!.retainUntil },
      { key: "strongbox/TestDb/log-backups/TestDb[0000].4BL", retainUntil: first.logBackups[0]!.lock!.retainUntil },
    ]);
    expect((await listArchives(target.bucket, target.layout, "TestDb")).map((a) => a.number)).toEqual([1, 2]);

    // Not even Strongbox's own credentials can delete a locked copy before its date.
    await expect(deleteObjectForGood(target.bucket, first.summary.object.key, { versioned: true })).rejects.toMatchObject({ kind: "permission" });
    expect((await listArchives(target.bucket, target.layout, "TestDb"))[0]).toMatchObject({ number: 1, object: expect.anything() });
  });

  it("a multipart upload is locked too (radosgw 16.2 ignores the lock headers of CreateMultipartUpload: the retention is set after)", async () => {
    const b = await freshBucket({ objectLock: true });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-lock-"));
    scratch = dir;
    const file = path.join(dir, "big.zip");
    fs.writeFileSync(file, crypto.randomBytes(11 * (1 << 20)));
    const db = openConsoleDb(path.join(dir, "console.sqlite"));
    try {
      const retainUntil = new Date(Date.now() + 86_400_000);
      const r = await uploadFile({ bucket: b, db, key: "big.zip", file, partBytes: 5 << 20, lock: { mode: "GOVERNANCE", retainUntil } });
      expect(r.partsSent).toBe(3);
      expect(r.lock).toEqual({ mode: "GOVERNANCE", retainUntil: retainUntil.toISOString() });
      const head = await b.client.send(new HeadObjectCommand({ Bucket: b.dest.bucket, Key: "big.zip" }));
      expect(head.ObjectLockMode).toBe("GOVERNANCE");
      expect(new Date(head.ObjectLockRetainUntilDate!).toISOString()).toBe(retainUntil.toISOString());
      await expect(deleteObjectForGood(b, "big.zip", { versioned: true })).rejects.toMatchObject({ kind: "permission" });
    } finally {
      db.close();
    }
  });
});
