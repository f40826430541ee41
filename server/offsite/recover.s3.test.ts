// Recovery from the bucket alone, on a real database (data API, log file, backup engine) and a real S3 server:
// backups copied off-site, the log shipped as it grows, then the database brought back into an empty folder — to a
// chosen time, and as late as possible — equal, table by table, to the live data at that time.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freshBucket } from "../../test/s3/s3-server";
import { liveDatabase, tables, type LiveDatabase } from "../../test/s3/live-database";
import { LogShipper } from "./log-shipping";
import { copyBackupOffsite } from "./offsite-copy";
import { recoverFromBucket } from "./recover";
import type { OffsiteTarget } from "./offsite-target";
import { deleteObjectForGood } from "./s3-objects";

let live: LiveDatabase | null = null;
const dirs: string[] = [];
afterEach(async () => {
  await live?.close();
  live = null;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const scratch = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-recover-test-"));
  dirs.push(d);
  return d;
};

/** Waits until the clock has moved past `iso` (so that the next write is strictly later than a chosen time). */
async function pastTime(iso: string): Promise<void> {
  await expect.poll(() => Date.now() > Date.parse(iso), { interval: 1 }).toBe(true);
}

function shipperFor(l: LiveDatabase, target: OffsiteTarget): LogShipper {
  return new LogShipper({ log: l.shippable, bucket: target.bucket, layout: target.layout, db: target.db, databaseName: "TestDb",
    masterKey: target.masterKey, intervalMs: 60_000 });
}

for (const encrypted of [false, true]) {
  describe(`recoverFromBucket (${encrypted ? "encrypted" : "plain"} bucket)`, () => {
    it("brings the database back into an empty folder at a chosen time, and as late as shipped, equal table by table to the live data then", async () => {
      const passphrase = encrypted ? "the passphrase of the test" : undefined;
      const b = await freshBucket();
      live = await liveDatabase(b.dest, { passphrase });
      const l = live;
      const target = await l.target();
      expect(target.masterKey !== null).toBe(encrypted);
      const shipper = shipperFor(l, target);

      await l.write("A", 12);
      const first = await l.backup();
      await copyBackupOffsite(target, first);
      await l.write("B", 15);
      await shipper.tick();
      const atB = tables(l.t.dataFile);
      const status = await shipper.status();
      expect(status).toMatchObject({ upToDate: true, shipped: { op: l.store.lastOperation() } });
      const timeB = status.shipped!.time;
      await pastTime(timeB);

      await l.write("C", 10);
      await shipper.tick();
      const second = await l.backup();
      const copy2 = await copyBackupOffsite(target, second);
      expect(copy2.lines.join("\n")).toMatch(/Uploading archive : .*TestDb\[0002\]\.zip.*\nOff-site copy : [\d.]+ MB sent/);
      expect(copy2.summary).toMatchObject({ number: 2, dataFile: true, object: { encrypted } });
      await l.write("D", 9);
      await shipper.tick();
      const atD = tables(l.t.dataFile);
      expect(await shipper.status()).toMatchObject({ upToDate: true, lagging: false });

      // At time B: archive 1 (archive 2 was completed later) and the log after its snapshot, up to B.
      const toB = path.join(scratch(), "at-B");
      const r1 = await recoverFromBucket({ bucket: target.bucket, prefix: target.dest.prefix, to: toB, time: new Date(timeB), passphrase });
      expect(r1).toMatchObject({ databaseName: "TestDb", archive: { number: 1 }, lastOperationTime: timeB, warnings: [] });
      expect(r1.operationsIntegrated).toBeGreaterThan(15);
      expect(tables(path.join(toB, "Data/data.sqlite"))).toEqual(atB);
      expect(fs.existsSync(path.join(toB, "Project/TestDb.4DProject"))).toBe(true);
      expect(fs.statSync(r1.reportFile).mode & 0o777).toBe(0o600);
      expect(JSON.parse(fs.readFileSync(r1.reportFile, "utf8"))).toMatchObject({ archive: { number: 1 }, lastOperation: r1.lastOperation });

      // As late as the bucket allows: archive 2 and the segments after it.
      const latest = path.join(scratch(), "latest");
      const r2 = await recoverFromBucket({ bucket: target.bucket, prefix: target.dest.prefix, to: latest, passphrase });
      expect(r2).toMatchObject({ archive: { number: 2 }, lastOperation: l.store.lastOperation() });
      expect(tables(path.join(latest, "Data/data.sqlite"))).toEqual(atD);
    });
  });
}

describe("recoverFromBucket with a segment missing from the bucket", () => {
  it("stops before the gap — the database as it was before the missing operations — and says which are missing", async () => {
    const b = await freshBucket();
    live = await liveDatabase(b.dest);
    const l = live;
    const target = await l.target();
    const shipper = shipperFor(l, target);
    await l.write("A", 4);
    await copyBackupOffsite(target, await l.backup());
    await l.write("B", 6);
    await shipper.tick();
    const atB = tables(l.t.dataFile);
    const lastB = l.store.lastOperation();
    await l.write("C", 6);
    await shipper.tick();
    const lastC = l.store.lastOperation();
    await l.write("D", 6);
    await shipper.tick();
    const lost = target.layout.segmentKey("TestDb", l.store.databaseId(), lastB + 1, lastC, false);
    await deleteObjectForGood(target.bucket, lost, { versioned: false });

    const to = path.join(scratch(), "db");
    const r = await recoverFromBucket({ bucket: target.bucket, prefix: target.dest.prefix, to });
    expect(r.lastOperation).toBe(lastB);
    expect(r.warnings).toEqual([`Operations ${lastB + 1} to ${lastC} are not in the bucket: the database was recovered up to operation ${lastB}, before them.`]);
    expect(tables(path.join(to, "Data/data.sqlite"))).toEqual(atB);
  });
});

describe("recoverFromBucket refuses clearly, and leaves nothing behind", () => {
  it("a time before the first off-site archive, a non-empty folder, a wrong passphrase", async () => {
    const b = await freshBucket();
    live = await liveDatabase(b.dest, { passphrase: "the passphrase of the test" });
    const target = await live.target();
    await live.write("A", 3);
    await copyBackupOffsite(target, await live.backup());
    const where = scratch();
    const to = path.join(where, "db");
    const base = { bucket: target.bucket, prefix: target.dest.prefix, passphrase: "the passphrase of the test" };
    await expect(recoverFromBucket({ ...base, to, time: new Date("2001-01-01T00:00:00Z") }))
      .rejects.toThrow(/No off-site archive of TestDb was completed by 2001-01-01T00:00:00.000Z: the oldest one in the bucket ended at/);
    await expect(recoverFromBucket({ ...base, to, passphrase: "not the passphrase" })).rejects.toThrow(/The passphrase is wrong/);
    fs.mkdirSync(to);
    fs.writeFileSync(path.join(to, "keep.txt"), "mine");
    await expect(recoverFromBucket({ ...base, to })).rejects.toThrow(/Recovery refused: .*not empty/);
    expect(fs.readdirSync(where)).toEqual(["db"]);
    expect(fs.readdirSync(to)).toEqual(["keep.txt"]);
    await expect(recoverFromBucket({ ...base, prefix: "nothing-here", to: path.join(where, "x") })).rejects.toThrow(/holds no Strongbox copies/);
  });
});
