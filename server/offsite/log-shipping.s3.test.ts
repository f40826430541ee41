// Log shipping on a real database and a real S3 server: the open log cut and shipped while writes happen, the
// recovery point and its amber flag, nothing sent twice (also by a new shipper after a restart), a failure kept
// for the status and mended by the next tick, and segments a log backup took meanwhile left to that log backup.
import { afterEach, describe, expect, it } from "vitest";
import { freshBucket } from "../../test/s3/s3-server";
import { liveDatabase, type LiveDatabase } from "../../test/s3/live-database";
import { LogShipper } from "./log-shipping";
import { makeS3Client } from "./s3-client";
import { listObjects } from "./s3-objects";
import type { OffsiteTarget } from "./offsite-target";

let live: LiveDatabase | null = null;
let shipper: LogShipper | null = null;
afterEach(async () => {
  await shipper?.stop();
  shipper = null;
  await live?.close();
  live = null;
});

const segmentKeys = async (t: OffsiteTarget) => (await listObjects(t.bucket, t.layout.segmentsPrefix("TestDb"))).map((o) => o.key);

function newShipper(l: LiveDatabase, t: OffsiteTarget, opts: { intervalMs?: number; now?: () => Date; bucket?: OffsiteTarget["bucket"] } = {}): LogShipper {
  return new LogShipper({ log: l.shippable, bucket: opts.bucket ?? t.bucket, layout: t.layout, db: t.db, databaseName: "TestDb", masterKey: t.masterKey,
    intervalMs: opts.intervalMs ?? 60_000, now: opts.now });
}

describe("LogShipper", () => {
  it("cuts and ships the open log; tells the recovery point, and flags it when operations wait more than twice the interval", async () => {
    const b = await freshBucket();
    live = await liveDatabase(b.dest);
    const t = await live.target();
    let clock = Date.now();
    const s = newShipper(live, t, { now: () => new Date(clock) });
    expect(await s.status()).toMatchObject({ upToDate: true, shipped: null, lagging: false });

    const last = await live.write("A", 8);
    expect(await s.status()).toMatchObject({ upToDate: false, shipped: null, lagging: false });
    clock += 3 * 60_000; // the first unshipped operation is now older than twice the interval
    expect(await s.status()).toMatchObject({ upToDate: false, lagging: true, waitingSince: expect.any(String) });

    await s.tick();
    const shipped = await s.status();
    expect(shipped).toMatchObject({ upToDate: true, lagging: false, shipped: { op: last }, lastError: null });
    expect(await segmentKeys(t)).toEqual([`strongbox/TestDb/log/${live.store.databaseId()}/log[1-${last}].journal`]);
    // Shipped segments stay local until a log backup takes them.
    expect((await live.log.closedSegments()).map((x) => x.lastOperation)).toEqual([last]);

    clock = Date.now();
    await live.write("B", 2);
    const waiting = await s.status();
    expect(waiting).toMatchObject({ upToDate: false, shipped: shipped.shipped, lagging: false });

    // A tick with nothing new cuts nothing and sends nothing.
    await s.tick();
    const keys = await segmentKeys(t);
    await s.tick();
    expect(await segmentKeys(t)).toEqual(keys);
    // A new shipper (a restarted server) learns from the bucket what is there, and sends nothing again.
    const again = newShipper(live, t);
    await again.ship();
    expect(await again.status()).toMatchObject({ upToDate: true, shipped: { op: live.store.lastOperation() } });
    expect(await segmentKeys(t)).toEqual(keys);
  });

  it("keeps the failure for the status, and the next tick ships what waited", async () => {
    const b = await freshBucket();
    live = await liveDatabase(b.dest);
    const t = await live.target();
    const unreachable = { client: makeS3Client({ ...t.dest, endpoint: "http://127.0.0.1:9" }, { maxAttempts: 1 }), dest: { ...t.dest, endpoint: "http://127.0.0.1:9" } };
    await live.write("A", 4);
    const broken = newShipper(live, t, { bucket: unreachable });
    await broken.tick();
    expect(await broken.status()).toMatchObject({ upToDate: false, lastError: expect.stringMatching(/connection was refused/) });
    const s = newShipper(live, t);
    await s.tick();
    expect(await s.status()).toMatchObject({ upToDate: true, lastError: null });
    expect(await segmentKeys(t)).toHaveLength(1);
  });

  it("a segment a log backup took between the listing and the upload is left to that log backup, without an error", async () => {
    const b = await freshBucket();
    live = await liveDatabase(b.dest);
    const t = await live.target();
    await live.write("A", 3);
    await live.shippable.cut();
    const listed = await live.log.closedSegments();
    expect(listed).toHaveLength(1);
    await live.backup(); // its log backup takes the segment and removes it
    const s = new LogShipper({ log: { ...live.shippable, closedSegments: async () => listed }, bucket: t.bucket, layout: t.layout, db: t.db,
      databaseName: "TestDb", masterKey: null, intervalMs: 60_000 });
    await s.ship();
    expect((await s.status()).lastError).toBeNull();
    expect(await segmentKeys(t)).toEqual([]);
  });

  it("started, it cuts and ships at each interval while writes happen", async () => {
    const b = await freshBucket();
    live = await liveDatabase(b.dest);
    const t = await live.target();
    shipper = newShipper(live, t, { intervalMs: 300 });
    shipper.start();
    const op = await live.write("A", 3);
    await expect.poll(async () => (await shipper!.status()).shipped?.op, { timeout: 20_000 }).toBe(op);
    const op2 = await live.write("B", 3);
    await expect.poll(async () => (await shipper!.status()).shipped?.op, { timeout: 20_000 }).toBe(op2);
    expect(await segmentKeys(t)).toHaveLength(2);
    expect((await shipper.status()).lastError).toBeNull();
  });
});
