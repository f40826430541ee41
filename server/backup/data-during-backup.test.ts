// Access to the database during a backup (docs/operations.md#locks), on a real database with real backups, data
// API, locks and log file: writes wait and then apply in order, a cancelled wait changes nothing, reads never
// wait, the locks are always released, and a snapshot plus its log reproduces the live data file.
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openConsoleDb } from "../console/console-db";
import type { CurrentLog } from "../log/current-log";
import type { DataStore } from "../data/data-store";
import { openDataAccess } from "../startup/open-data";
import { databaseLayout } from "../database/layout";
import { BackupLocks } from "../locks/backup-locks";
import { readLog } from "../log/read-log";
import { STATUS } from "../isomorphic/status";
import { readEntry } from "../zip/zip-reader";
import { tables as rows } from "../../test/helpers/tables";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import { logIntegrationTask } from "../restore/log-integration-task";
import { openOperations, type TestOperations } from "../../test/helpers/operations";
import { readArchiveManifest } from "../archive/manifest";
import type { Phase } from "../isomorphic/phases";

let t: TestDatabase;
let store: DataStore | null = null;
let engine: TestOperations | null = null;

afterEach(async () => {
  await engine?.runner.waitForIdle();
  await store?.close();
  t?.cleanup();
  engine = null;
  store = null;
});

const manual = { trigger: { kind: "manual" as const, user: "alice" } };
const alice = { user: "alice" };

/** A database with the real data side (locks, log, store) and backups slowed so that one lasts a while. */
async function setUp(opts: { lockMode?: "Full" | "Snapshot"; throttle?: number | null; log?: CurrentLog } = {}) {
  t = makeTestDatabase({ rows: 300 });
  t.writeSettings({ advancedXml: `<DataLockMode>${opts.lockMode ?? "Snapshot"}</DataLockMode>` });
  const locks = new BackupLocks();
  const data = await openDataAccess(databaseLayout(t.databaseDir), locks, true);
  store = data.store;
  engine = openOperations(t, { consoleDb: openConsoleDb(path.join(t.home, "console.sqlite")), locks, log: opts.log ?? data.log,
    throttleBytesPerSecond: opts.throttle === undefined ? 250_000 : opts.throttle });
  await engine.init();
  return { engine, store: data.store, locks, log: data.log };
}

/** Resolves when the running backup reaches `phase` (progress events are emitted at once on a phase change). */
function reach(e: TestOperations, phase: Phase): Promise<void> {
  return new Promise((resolve) => {
    const on = (ev: { type: string; progress?: { phase: Phase } }) => {
      if (ev.type === "progress" && ev.progress?.phase === phase) {
        e.db.bus.off("event", on);
        resolve();
      }
    };
    e.db.bus.on("event", on);
  });
}

const phaseNow = (e: TestOperations): Phase | "idle" => e.runner.running?.phase ?? "idle";


async function extractSnapshot(archive: string, to: string): Promise<string> {
  fs.writeFileSync(to, await readEntry(archive, "Data/data.sqlite"));
  return to;
}

const customer = (id: number) => (store!.readRows("customers", { offset: 0, limit: 1, filter: { column: "id", op: "eq", value: id } }).rows[0] ?? null);

describe("writes during a backup", () => {
  it("Full mode: writes wait for the whole backup, then apply in arrival order with none lost; reads answer at once", async () => {
    const { engine, store } = await setUp({ lockMode: "Full" });
    const run = engine.backup();
    await reach(engine, "archive");
    const resolvedIn: Array<Phase | "idle"> = [];
    const writes = Array.from({ length: 12 }, (_, i) =>
      store.write({ kind: "update", table: "customers", key: 1 + (i % 3), values: { city: `Write ${i}` } }, alice)
        .then((r) => { resolvedIn.push(phaseNow(engine)); return r; }));
    // A read during the lock answers at once, and sees none of the waiting writes.
    expect(customer(1)).toMatchObject({ city: "City 0" });
    expect(engine.db.locks.state().data.waiting).toBeGreaterThan(0);
    const outcome = await run.done;
    expect(outcome.status).toBe(0);
    const results = await Promise.all(writes);
    // Every write applied after the archive was whole (the lock is released at shutdown), in arrival order.
    for (const p of resolvedIn) expect(["shutdown", "idle"]).toContain(p);
    expect(results.map((r) => r.operation)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(customer(1)).toMatchObject({ city: "Write 9" });
    expect(customer(2)).toMatchObject({ city: "Write 10" });
    expect(customer(3)).toMatchObject({ city: "Write 11" });
    // None of them is in the snapshot: it was taken before.
    const manifest = await readArchiveManifest(outcome.archivePath!);
    expect(manifest.log.lastOperation).toBe(0);
    // All of them are in the log file, as applied.
    const log = await readLog(databaseLayout(t.databaseDir).logFile, { allowTornTail: false });
    expect(log.records.map((r) => [r.op, r.kind, r.user, (r as { values?: unknown }).values])).toEqual(
      results.map((r, i) => [r.operation, "update", "alice", { city: `Write ${i}` }]));
  });

  it("Snapshot mode: writes wait only while the snapshot is taken, and are free again before the archive is written", async () => {
    const { engine, store } = await setUp({ lockMode: "Snapshot" });
    const run = engine.backup();
    // A steady stream of writes for the whole backup: each records the phase it was issued in and resolved in.
    const log: Array<{ issued: string; resolved: string; waitedMs: number }> = [];
    let stop = false;
    const stream = (async () => {
      for (let i = 0; !stop; i++) {
        const issued = phaseNow(engine);
        const t0 = performance.now();
        await store.write({ kind: "insert", table: "customers", values: { name: `Stream ${i}`, city: "Live" } }, alice);
        log.push({ issued, resolved: phaseNow(engine), waitedMs: performance.now() - t0 });
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const outcome = await run.done;
    stop = true;
    await stream;
    expect(outcome.status).toBe(0);
    const blocked = log.filter((w) => w.issued === "snapshot" || w.resolved !== w.issued);
    console.log(`[data-during-backup] Snapshot mode: ${log.length} writes; the longest wait ${Math.max(...log.map((w) => w.waitedMs)).toFixed(1)} ms; ` +
      `writes issued in the snapshot phase resolved in: ${[...new Set(log.filter((w) => w.issued === "snapshot").map((w) => w.resolved))].join(", ")}`);
    expect(blocked.length).toBeGreaterThan(0);
    // Writes blocked by the snapshot were free again during the archive phase, and writes went on during it.
    for (const w of log) if (["startup", "snapshot"].includes(w.issued)) expect(["startup", "snapshot", "archive"]).toContain(w.resolved);
    expect(log.some((w) => w.issued === "archive" && w.resolved === "archive")).toBe(true);
    // Nothing lost: every write is in the data file and in the log.
    const ops = store.lastOperation();
    expect(ops).toBe(log.length);
    const manifest = await readArchiveManifest(outcome.archivePath!);
    const current = await readLog(databaseLayout(t.databaseDir).logFile, { allowTornTail: false });
    expect(current.header.firstOperation).toBe((manifest.log.lastOperation ?? 0) + 1);
    expect(current.records.at(-1)?.op ?? manifest.log.lastOperation).toBe(ops);
  });

  it("a cancelled wait gets -9976 and changes nothing", async () => {
    const { engine, store, locks } = await setUp({ lockMode: "Full" });
    const run = engine.backup();
    await reach(engine, "archive");
    const waiting = store.write({ kind: "update", table: "customers", key: 5, values: { city: "Never" } }, { ...alice, requestId: "req-1" });
    const refusedAtOnce = store.write({ kind: "delete", table: "customers", key: 6 }, { ...alice, noWait: true });
    await expect(refusedAtOnce).rejects.toMatchObject({ status: STATUS.BACKUP_IN_PROGRESS });
    expect(locks.cancel("req-1")).toBe(true);
    await expect(waiting).rejects.toMatchObject({ status: STATUS.BACKUP_IN_PROGRESS, message: expect.stringContaining("backup is in progress") });
    expect((await run.done).status).toBe(0);
    expect(customer(5)).toMatchObject({ city: "City 4" });
    expect(customer(6)).not.toBeNull();
    expect(store.lastOperation()).toBe(0);
  });
});

describe("the locks are always released", () => {
  const free = async (locks: BackupLocks, store: DataStore) => {
    expect(locks.state().data.held).toBe(false);
    expect(locks.state().structure.held).toBe(false);
    await store.write({ kind: "update", table: "customers", key: 1, values: { city: "After" } }, { ...alice, noWait: true });
  };

  it("after a Stop", async () => {
    const { engine, store, locks } = await setUp({ lockMode: "Full" });
    const run = engine.backup();
    await reach(engine, "archive");
    expect(locks.state().data.held).toBe(true);
    expect(locks.state().structure.held).toBe(true);
    engine.runner.stop();
    expect((await run.done).status).toBe(STATUS.CANCELED_BY_USER);
    await free(locks, store);
  });

  it("after a failure (the log file disappeared: 1403)", async () => {
    const { engine, store, locks } = await setUp({ lockMode: "Full", throttle: null });
    fs.rmSync(databaseLayout(t.databaseDir).logFile);
    const outcome = await engine.backup().done;
    expect(outcome.status).toBe(STATUS.NO_LOG_FILE);
    expect(outcome.statusText).toContain("data.journal");
    expect(fs.readdirSync(t.destination).filter((n) => n.endsWith(".zip"))).toEqual([]);
    expect(locks.state().data.held).toBe(false);
    expect(locks.state().structure.held).toBe(false);
    // Writes refuse nothing here (the log object is still open); the lock itself is free.
    await store.write({ kind: "update", table: "customers", key: 1, values: { city: "After" } }, { ...alice, noWait: true }).catch(() => undefined);
  });

  it("after an unexpected exception in the middle of the backup", async () => {
    const throwing = { atSnapshot: () => { throw new TypeError("boom"); }, closedSegments: async () => [] } as unknown as CurrentLog;
    const { engine, store, locks } = await setUp({ lockMode: "Full", throttle: null, log: throwing });
    const outcome = await engine.backup().done;
    expect(outcome.status).toBe(STATUS.BACKUP_ERROR);
    expect(outcome.statusText).toContain("boom");
    await free(locks, store);
  });
});

describe("the log file and log integration", () => {
  it("a snapshot plus the log backups and the current log reproduce the live data file, also up to a chosen operation", async () => {
    const { engine, store } = await setUp({ throttle: null });
    const first = await engine.backup().done;
    expect(first.status).toBe(0);
    // Writes of every kind between the backups and after the second.
    await store.write({ kind: "createTable", table: "notes", columns: [{ name: "id", type: "INTEGER", primaryKey: true }, { name: "body", type: "TEXT" }] }, alice);
    for (let i = 0; i < 20; i++) await store.write({ kind: "insert", table: "notes", values: { body: `note ${i}` } }, alice);
    await store.write({ kind: "batch", ops: [
      { kind: "update", table: "customers", key: 7, values: { name: "Renamed" } },
      { kind: "delete", table: "customers", key: 8 },
    ] }, alice);
    const second = await engine.backup().done;
    expect(second.status).toBe(0);
    const logBackup = path.join(t.destination, "TestDb[0001].4BL");
    expect(fs.existsSync(logBackup)).toBe(true);
    const history = JSON.parse(fs.readFileSync(path.join(t.destination, "backupHistory.json"), "utf8"));
    expect(Object.values(history)[0]).toEqual(expect.arrayContaining([expect.objectContaining({ backupNumber: 2, logPath: logBackup })]));
    expect(fs.readFileSync(path.join(t.databaseDir, "Logs/Backup Journal[001].txt"), "utf8")).toContain(`Creating log backup : ${logBackup}`);
    await store.write({ kind: "addColumn", table: "notes", column: { name: "tag", type: "TEXT" } }, alice);
    await store.write({ kind: "update", table: "notes", key: 3, values: { tag: "late" } }, alice);
    const midpoint = 10;
    // The state just after operation `midpoint`, for the rollback check: replay from the first snapshot, up to it.
    const restored = await extractSnapshot(first.archivePath!, path.join(t.root, "restored.sqlite"));
    const integration = await engine.start(logIntegrationTask(engine.db, { dataFile: restored, trigger: manual.trigger, backupNumber: 1 })).done;
    expect(integration.status).toBe(0);
    expect(rows(restored)).toEqual(rows(t.dataFile));

    const partial = await extractSnapshot(first.archivePath!, path.join(t.root, "partial.sqlite"));
    expect((await engine.start(logIntegrationTask(engine.db, { dataFile: partial, trigger: manual.trigger, upToOperation: midpoint })).done).status).toBe(0);
    const got = rows(partial);
    expect(got.notes.map((r) => (r as { body: string }).body)).toEqual(Array.from({ length: midpoint - 1 }, (_, i) => `note ${i}`));
    expect(got.strongbox_bookkeeping).toEqual(expect.arrayContaining([expect.objectContaining({ key: "last_operation", value: String(midpoint) })]));
    const journal = fs.readFileSync(path.join(t.databaseDir, "Logs/Backup Journal[001].txt"), "utf8");
    expect(journal.match(/^\*\*\* Log Integration$/gm)).toHaveLength(2);
  });

  it("the first backup keeps the log backup it writes ([0000].4BL); retention deletes it only with archive 1", async () => {
    const { engine, store } = await setUp({ throttle: null });
    const journal = () => fs.readFileSync(path.join(t.databaseDir, "Logs/Backup Journal[001].txt"), "utf8");
    const entries = () => Object.values(JSON.parse(fs.readFileSync(path.join(t.destination, "backupHistory.json"), "utf8")))[0] as Array<{ backupNumber: number; logPath: string }>;
    const zero = path.join(t.destination, "TestDb[0000].4BL");
    await store.write({ kind: "update", table: "customers", key: 1, values: { city: "Before the first backup" } }, alice);
    expect((await engine.backup(manual).done).status).toBe(0);
    expect(journal()).toContain(`Creating log backup : ${zero}`);
    expect(journal()).not.toContain("Deleted");
    expect(fs.existsSync(zero)).toBe(true);
    expect(entries()[0]!.logPath).toBe(zero);
    // Backups 2 and 3 (keep only the last 3, the default): still nothing deleted; every entry's logPath exists.
    for (let n = 2; n <= 4; n++) {
      await store.write({ kind: "update", table: "customers", key: 1, values: { city: `Before backup ${n}` } }, alice);
      expect((await engine.backup(manual).done).status).toBe(0);
    }
    // Backup 4 deleted backup 1: its archive and the log backup it wrote, [0000], and nothing else.
    expect(journal().match(/^.*Deleted \(keep only the last 3\).*$/gm)!.map((l) => path.basename(l.split(": ").pop()!)).sort())
      .toEqual(["TestDb[0000].4BL", "TestDb[0001].zip"]);
    for (const e of entries()) expect(fs.existsSync(e.logPath), e.logPath).toBe(true);
    expect(fs.readdirSync(t.destination).filter((f) => f.endsWith(".4BL")).sort()).toEqual(["TestDb[0001].4BL", "TestDb[0002].4BL", "TestDb[0003].4BL"]);
  });

  it("a stopped backup loses no closed log segment: the next log backup holds its operations", async () => {
    const { engine, store } = await setUp({ lockMode: "Snapshot" });
    expect((await engine.backup().done).status).toBe(0);
    for (let i = 0; i < 3; i++) await store.write({ kind: "update", table: "customers", key: 1, values: { city: `A${i}` } }, alice);
    const stopped = engine.backup();
    await reach(engine, "archive");
    engine.runner.stop();
    expect((await stopped.done).status).toBe(STATUS.CANCELED_BY_USER);
    for (let i = 0; i < 2; i++) await store.write({ kind: "update", table: "customers", key: 2, values: { city: `B${i}` } }, alice);
    const third = await engine.backup().done;
    expect(third.status).toBe(0);
    expect(third.backupNumber).toBe(2);
    const logBackup = await readLog(path.join(t.destination, "TestDb[0001].4BL"), { allowTornTail: false });
    expect(logBackup.records.map((r) => r.op)).toEqual([1, 2, 3, 4, 5]);
    expect(fs.readdirSync(databaseLayout(t.databaseDir).logSegmentsDir)).toEqual([]);
  });
});
