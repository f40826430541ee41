// The data snapshot pinned at one operation (snapshot.ts), on a real database with the real data API, locks and log
// file: the data write lock is held only while the point is fixed and the log cut there, writes are acknowledged
// while the copy is made, and the copy plus the operations of the next log segment is the live data file.
import Database from "better-sqlite3";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Bookkeeping } from "../data/bookkeeping";
import { openDataAccess, type DataAccess } from "../startup/open-data";
import { databaseLayout } from "../database/layout";
import { BackupLocks } from "../locks/backup-locks";
import { integrateLog } from "../log/integration";
import type { ClosedSegment } from "../log/log-file";
import { readLog } from "../log/read-log";
import { readArchiveManifest } from "../archive/manifest";
import { STATUS } from "../isomorphic/status";
import { readEntry } from "../zip/zip-reader";
import { tables as rows } from "../../test/helpers/tables";
import { makeTestDatabase, type TestDatabase } from "../../test/helpers/make-database";
import { openOperations, type TestOperations } from "../../test/helpers/operations";
import { snapshotSidecars, takePinnedSnapshot } from "./snapshot";

let t: TestDatabase;
let data: DataAccess | null = null;
let engine: TestOperations | null = null;

afterEach(async () => {
  await engine?.runner.waitForIdle();
  engine?.consoleDb.close();
  await data?.store.close();
  await data?.log.close();
  t?.cleanup();
  engine = null;
  data = null;
});

const alice = { user: "alice" };
const noWait = { ...alice, noWait: true };

async function setUp() {
  t = makeTestDatabase({ rows: 300 });
  const locks = new BackupLocks();
  data = await openDataAccess(databaseLayout(t.databaseDir), locks, true);
  return { locks, store: data.store, log: data.log };
}


function checkFile(file: string): { integrity: string; journalMode: string; lastOperation: number } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      integrity: db.pragma("integrity_check", { simple: true }) as string,
      journalMode: db.pragma("journal_mode", { simple: true }) as string,
      lastOperation: Number((db.prepare("SELECT value FROM strongbox_bookkeeping WHERE key = 'last_operation'").get() as { value: string }).value),
    };
  } finally {
    db.close();
  }
}

/** A checkpoint that can't move the whole WAL into the data file: a read transaction (the copier's) is still open. */
function walPinned(dataFile: string): boolean {
  const db = new Database(dataFile);
  try {
    const [r] = db.pragma("wal_checkpoint(TRUNCATE)") as Array<{ busy: number }>;
    return r!.busy !== 0;
  } finally {
    db.close();
  }
}

describe("takePinnedSnapshot", () => {
  it("holds the lock only to pin the point; writes are acknowledged during the copy; the copy plus the next segment is the live data", async () => {
    const { locks, store, log } = await setUp();
    for (let i = 0; i < 5; i++) await store.write({ kind: "update", table: "customers", key: 1 + i, values: { city: `Before ${i}` } }, alice);
    const target = path.join(t.root, "snapshot.sqlite");
    let pinned: Bookkeeping | null = null;
    let segment: ClosedSegment | null = null;
    const during: number[] = [];
    const snap = await takePinnedSnapshot(t.dataFile, target, {
      signal: new AbortController().signal,
      lock: () => locks.acquire("data"),
      pin: async (bk) => {
        expect(locks.state().data.held).toBe(true);
        pinned = bk;
        segment = await log.atSnapshot(true, bk!);
      },
      beforeCopy: async () => {
        // The copy is held here: the lock is free, and writes — even one touching every row the copy will read —
        // are committed and acknowledged at once (noWait: -9976 if they had to wait).
        expect(locks.state().data.held).toBe(false);
        during.push((await store.write({ kind: "batch", ops: Array.from({ length: 300 }, (_, i) => ({ kind: "update" as const, table: "customers", key: i + 1, values: { city: "During" } })) }, noWait)).operation);
        during.push((await store.write({ kind: "insert", table: "customers", values: { name: "New", city: "During" } }, noWait)).operation);
        during.push((await store.write({ kind: "delete", table: "customers", key: 7 }, noWait)).operation);
        expect(walPinned(t.dataFile)).toBe(true);
      },
    });
    expect(during).toEqual([6, 7, 8]);
    // The snapshot is at the point the log was cut: operation 5, whatever committed after.
    expect(snap.bookkeeping).toEqual(pinned);
    expect(pinned!.lastOperation).toBe(5);
    expect(segment).toMatchObject({ firstOperation: 1, lastOperation: 5 });
    expect(checkFile(target)).toEqual({ integrity: "ok", journalMode: "delete", lastOperation: 5 });
    for (const f of snapshotSidecars(target).slice(1)) expect(fs.existsSync(f), f).toBe(false);
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);
    const copied = rows(target);
    expect(copied.customers!.filter((r) => (r as { city: string }).city === "During")).toEqual([]);
    // The operations after it are all in the next log segment (the current log), none twice.
    const next = await readLog(databaseLayout(t.databaseDir).logFile, { allowTornTail: false });
    expect(next.header.firstOperation).toBe(6);
    expect(next.records.map((r) => r.op)).toEqual([6, 7, 8]);
    const r = await integrateLog({ dataFile: target, records: next.records, databaseId: pinned!.databaseId, afterOperation: 5 });
    expect(r).toEqual({ applied: 3, lastOperation: 8 });
    expect(rows(target)).toEqual(rows(t.dataFile));
    // The copier's read transaction ended with it: the WAL can be checkpointed whole again.
    expect(walPinned(t.dataFile)).toBe(false);
  });

  it("keeps the lock for the copy when asked (Full mode), and when the data file is not in WAL mode", async () => {
    t = makeTestDatabase({ rows: 20 });
    const locks = new BackupLocks();
    const heldDuringCopy = async (dataFile: string, keepLock: boolean) => {
      let held: boolean | null = null;
      const release = { fn: () => undefined as void };
      await takePinnedSnapshot(dataFile, path.join(t.root, "s.sqlite"), {
        signal: new AbortController().signal,
        lock: async () => { const r = await locks.acquire("data"); release.fn = r; return r; },
        pin: () => undefined,
        keepLock,
        beforeCopy: async () => { held = locks.state().data.held; },
      });
      const after = locks.state().data.held;
      release.fn();
      return { duringCopy: held, afterwards: after };
    };
    expect(await heldDuringCopy(t.dataFile, false)).toEqual({ duringCopy: false, afterwards: false });
    expect(await heldDuringCopy(t.dataFile, true)).toEqual({ duringCopy: true, afterwards: true });
    // In a rollback-journal mode the copier's read transaction would make every commit wait: the lock stays held.
    const db = new Database(t.dataFile);
    db.pragma("journal_mode = DELETE");
    db.close();
    expect(await heldDuringCopy(t.dataFile, false)).toEqual({ duringCopy: true, afterwards: false });
  });
});

describe("a backup in Snapshot mode", () => {
  async function engineWith(lockMode: "Snapshot" | "Full", beforeSnapshotCopy: (e: TestOperations) => Promise<void>) {
    const { locks, log } = await setUp();
    t.writeSettings({ advancedXml: `<DataLockMode>${lockMode}</DataLockMode>` });
    const e: TestOperations = openOperations(t, { locks, log, beforeSnapshotCopy: () => beforeSnapshotCopy(e) });
    engine = e;
    await e.init();
    return e;
  }

  it("acknowledges writes while the data file is copied; the archive's data file is at the cut, and its log backup plus the current log is the live data", async () => {
    let acknowledged: number[] = [];
    const e = await engineWith("Snapshot", async (e) => {
      expect(e.runner.running?.phase).toBe("snapshot");
      for (let i = 0; i < 4; i++) acknowledged.push((await data!.store.write({ kind: "update", table: "customers", key: 2, values: { city: `During ${i}` } }, noWait)).operation);
    });
    for (let i = 0; i < 3; i++) await data!.store.write({ kind: "update", table: "customers", key: 1, values: { city: `Before ${i}` } }, alice);
    const outcome = await e.backup().done;
    expect(outcome.status).toBe(0);
    expect(acknowledged).toEqual([4, 5, 6, 7]);
    const manifest = await readArchiveManifest(outcome.archivePath!);
    expect(manifest.log.lastOperation).toBe(3);
    const restored = path.join(t.root, "restored.sqlite");
    fs.writeFileSync(restored, await readEntry(outcome.archivePath!, "Data/data.sqlite"));
    expect(checkFile(restored)).toEqual({ integrity: "ok", journalMode: "delete", lastOperation: 3 });
    const logBackup = await readLog(path.join(t.destination, "TestDb[0000].4BL"), { allowTornTail: false });
    expect(logBackup.records.map((r) => r.op)).toEqual([1, 2, 3]);
    const current = await readLog(databaseLayout(t.databaseDir).logFile, { allowTornTail: false });
    expect(current.records.map((r) => r.op)).toEqual([4, 5, 6, 7]);
    await integrateLog({ dataFile: restored, records: current.records, afterOperation: 3 });
    expect(rows(restored)).toEqual(rows(t.dataFile));
  });

  it("Full mode still makes writes wait during the copy", async () => {
    let refused: unknown = null;
    const e = await engineWith("Full", async () => {
      refused = await data!.store.write({ kind: "update", table: "customers", key: 2, values: { city: "During" } }, noWait).then(() => null, (err: unknown) => err);
    });
    expect((await e.backup().done).status).toBe(0);
    expect(refused).toMatchObject({ status: STATUS.BACKUP_IN_PROGRESS });
  });

  it("a Stop during the copy ends it: 1406, no temporary file, the lock free and the WAL no longer held", async () => {
    let holder: Database.Database | null = null;
    const e = await engineWith("Snapshot", async (e) => {
      // Another connection's exclusive lock on the copy makes it wait (SQLite's backup retries a busy target, then
      // fails after the target connection's busy timeout, 1409): the Stop lands while it waits.
      const target = fs.readdirSync(t.destination).find((n) => n.endsWith(".data.tmp"))!;
      holder = new Database(path.join(t.destination, target));
      holder.pragma("locking_mode = EXCLUSIVE");
      holder.exec("BEGIN EXCLUSIVE");
      await data!.store.write({ kind: "update", table: "customers", key: 2, values: { city: "During" } }, noWait);
      setImmediate(() => e.runner.stop());
    });
    try {
      const outcome = await e.backup().done;
      expect(outcome.status).toBe(STATUS.CANCELED_BY_USER);
    } finally {
      (holder as Database.Database | null)?.close();
    }
    expect(fs.readdirSync(t.destination).filter((n) => n !== "backupHistory.json")).toEqual([]);
    expect(e.db.locks.state().data.held).toBe(false);
    await expect.poll(() => walPinned(t.dataFile), { timeout: 30_000 }).toBe(false);
  });

  it("a failure of the copy reaches the backup as a failed backup with its reason", async () => {
    const e = await engineWith("Snapshot", async () => {
      // Something that is not a SQLite file where the copy goes: SQLite refuses to write into it.
      const target = fs.readdirSync(t.destination).find((n) => n.endsWith(".data.tmp"))!;
      fs.writeFileSync(path.join(t.destination, target), Buffer.alloc(8192, 0x5a));
    });
    const outcome = await e.backup().done;
    expect(outcome.status).toBe(STATUS.BACKUP_ERROR);
    expect(outcome.statusText).toMatch(/Could not take the data file snapshot: .*not a database/);
    expect(fs.readdirSync(t.destination).filter((n) => n !== "backupHistory.json")).toEqual([]);
    expect(e.db.locks.state().data.held).toBe(false);
  });
});
