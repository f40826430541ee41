// Group commit on a real data file and a real log file: concurrent writes share a flush, keep their order and
// gapless numbers, and are acknowledged only once their group is on disk; a refused write inside a group takes no
// number; a log that fails (a disk that fills up, a file descriptor gone bad) acknowledges none of the group and
// leaves the data file and the log matching each other, so that a restart has nothing to replay.
import Database from "better-sqlite3";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import type { FileHandle } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ensureBookkeeping, readBookkeeping } from "./bookkeeping";
import { DataStore } from "./data-store";
import { createDemoDataFile } from "../demo/demo-data";
import { BackupLocks } from "../locks/backup-locks";
import { OperationLog } from "../log/log-file";
import { readLog } from "../log/read-log";
import { isDomainError } from "../errors";

let dir: string;
let dataFile: string;
let logDir: string;
let databaseId: string;
let locks: BackupLocks;
let log: OperationLog;
let store: DataStore;
const user = { user: "alice" };
const mounted: string[] = [];

async function openLog(lastOperation = 0): Promise<OperationLog> {
  const opened = await OperationLog.open({ logFile: path.join(logDir, "data.journal"), segmentsDir: path.join(logDir, "segments"), databaseId, lastOperation });
  return opened.log;
}

async function setUp(withLogDir?: string): Promise<void> {
  logDir = withLogDir ?? path.join(dir, "Data");
  fs.mkdirSync(logDir, { recursive: true });
  log = await openLog();
  store = new DataStore({ dataFile, locks, log });
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-group-"));
  dataFile = path.join(dir, "data.sqlite");
  createDemoDataFile(dataFile);
  const db = new Database(dataFile);
  db.exec(`CREATE TABLE parents (id INTEGER PRIMARY KEY);
    CREATE TABLE children (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED)`);
  db.close();
  databaseId = ensureBookkeeping(dataFile).databaseId;
  locks = new BackupLocks();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await store?.close();
  await log?.close().catch(() => undefined);
  for (const m of mounted.splice(0)) execFileSync("umount", [m]);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The data file as another program sees it (committed state only). */
function peek<T>(sql: string, ...params: unknown[]): T {
  const db = new Database(dataFile, { readonly: true });
  try {
    return db.prepare(sql).get(...params) as T;
  } finally {
    db.close();
  }
}
const lastOperation = () => {
  const db = new Database(dataFile, { readonly: true });
  try {
    return readBookkeeping(db)!.lastOperation;
  } finally {
    db.close();
  }
};
const cityOf = (id: number) => peek<{ city: string }>("SELECT city FROM customers WHERE id = ?", id).city;
const loggedOps = async () => (await readLog(path.join(logDir, "data.journal"), { allowTornTail: false })).records.map((r) => r.op);
const update = (key: number, city: string) => ({ kind: "update" as const, table: "customers", key, values: { city } });
async function outcome(p: Promise<{ operation: number }>): Promise<number | string> {
  try {
    return (await p).operation;
  } catch (err) {
    if (isDomainError(err)) return err.status ?? err.code;
    return (err as Error).message;
  }
}
/**
 * Watches the real fdatasync calls (FileHandle's, which only the log file uses here; SQLite syncs on its own): how
 * many there are, and after each one how far the log file on disk goes (its last operation). `hold` keeps the next
 * flush from starting until it is opened.
 */
async function watchFlushes(): Promise<{ calls: number[]; started: () => number; flushedUpTo: () => number; hold: () => () => void }> {
  const probe = await fs.promises.open(path.join(dir, "probe"), "w");
  const proto = Object.getPrototypeOf(probe) as { datasync: (this: FileHandle) => Promise<void> };
  await probe.close();
  const original = proto.datasync;
  const calls: number[] = [];
  let started = 0;
  let gate: Promise<void> | null = null;
  vi.spyOn(proto, "datasync").mockImplementation(async function (this: FileHandle) {
    started++;
    if (gate) await gate;
    await original.call(this);
    const ops = [...fs.readFileSync(path.join(logDir, "data.journal"), "utf8").matchAll(/^\{"op":(\d+),/gm)].map((m) => Number(m[1]));
    calls.push(ops.at(-1) ?? 0);
  });
  return {
    calls,
    started: () => started,
    flushedUpTo: () => calls.at(-1) ?? 0,
    hold: () => {
      let open!: () => void;
      gate = new Promise<void>((r) => { open = r; });
      return () => { gate = null; open(); };
    },
  };
}

describe("group commit", () => {
  it("commits 20 concurrent writes in fewer flushes than writes, in arrival order with gapless numbers, each acknowledged only once its group is on disk", async () => {
    await setUp();
    const flushes = await watchFlushes();
    const seenAtAck: Array<{ op: number; flushed: number; committed: number }> = [];
    const writes = Array.from({ length: 20 }, (_, i) =>
      store.write(update(1 + (i % 4), `write ${i}`), user).then((r) => {
        // At the acknowledgement: the record is flushed, and the data file has committed it (another connection sees it).
        seenAtAck.push({ op: r.operation, flushed: flushes.flushedUpTo(), committed: lastOperation() });
        return r.operation;
      }));
    expect(await Promise.all(writes)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(flushes.calls.length).toBeLessThan(20);
    expect(flushes.flushedUpTo()).toBe(20);
    for (const a of seenAtAck) {
      expect(a.flushed).toBeGreaterThanOrEqual(a.op);
      expect(a.committed).toBeGreaterThanOrEqual(a.op);
    }
    expect(await loggedOps()).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // The last write to each row is the one that stays: applied in arrival order.
    expect([1, 2, 3, 4].map(cityOf)).toEqual(["write 16", "write 17", "write 18", "write 19"]);
    expect(store.commitStats).toEqual({ groups: flushes.calls.length, writes: 20 });
  });

  it("acknowledges nothing of a group while its flush is under way, and readers see none of it", async () => {
    await setUp();
    const flushes = await watchFlushes();
    const open = flushes.hold();
    const acked: number[] = [];
    const writes = Array.from({ length: 10 }, (_, i) => store.write(update(5, `held ${i}`), user).then((r) => acked.push(r.operation)));
    // The first flush has started (its records are written, not yet on disk): nothing is acknowledged or visible.
    await expect.poll(() => flushes.started()).toBe(1);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); // a few turns of the loop for any wrong acknowledgement
    expect(acked).toEqual([]);
    expect(lastOperation()).toBe(0);
    expect(cityOf(5)).not.toMatch(/held/);
    open();
    await Promise.all(writes);
    expect(acked).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(cityOf(5)).toBe("held 9");
  });

  it("refuses a write of a group alone: it takes no number, the others are acknowledged with gapless numbers (a deferred foreign key too)", async () => {
    await setUp();
    const results = await Promise.all([
      outcome(store.write(update(1, "a"), user)),
      outcome(store.write(update(999_999, "no such row"), user)),
      outcome(store.write(update(2, "b"), user)),
      // Checked only at COMMIT: the group is committed again one write at a time, so only this one fails.
      outcome(store.write({ kind: "insert", table: "children", values: { parent: 42 } }, user)),
      outcome(store.write(update(3, "c"), user)),
    ]);
    expect(results).toEqual([1, "NOT_FOUND", 2, "CONFLICT", 3]);
    expect(await loggedOps()).toEqual([1, 2, 3]);
    expect(lastOperation()).toBe(3);
    expect([1, 2, 3].map(cityOf)).toEqual(["a", "b", "c"]);
    expect(peek<{ n: number }>("SELECT count(*) AS n FROM children").n).toBe(0);
  });

  it("starts the writes that waited for the data write lock together when it is released: one group, in arrival order", async () => {
    await setUp();
    const flushes = await watchFlushes();
    const release = await locks.acquire("data");
    const writes = Array.from({ length: 20 }, (_, i) => store.write(update(7, `waited ${i}`), user));
    await expect.poll(() => locks.state().data.waiting).toBe(20);
    release();
    expect((await Promise.all(writes)).map((r) => r.operation)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(flushes.calls.length).toBeLessThan(20);
    expect(cityOf(7)).toBe("waited 19");
  });
});

/** A tmpfs of `size` mounted under the test's folder, or null where mounting is not allowed (not root). */
function smallDisk(size: string): string | null {
  const at = path.join(dir, "small-disk");
  fs.mkdirSync(at);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", at], { stdio: "ignore" });
  } catch {
    return null;
  }
  mounted.push(at);
  return at;
}
const canMount = process.getuid?.() === 0;

describe("group commit when the log fails", () => {
  it.skipIf(!canMount)("acknowledges none of a group whose append fails on a full disk, leaves data file and log matching, and goes on once there is room", async () => {
    const disk = smallDisk("256k");
    expect(disk).not.toBeNull();
    await setUp(disk!);
    expect(await outcome(store.write(update(1, "before"), user))).toBe(1);
    // Fill the disk, leaving less room than the next group needs.
    const filler = path.join(disk!, "filler");
    const fd = fs.openSync(filler, "w");
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(4096, 1));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe("ENOSPC");
    }
    fs.closeSync(fd);
    fs.truncateSync(filler, fs.statSync(filler).size - 8192); // about 8 KB free: a group of 20 × 2 KB does not fit
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => outcome(store.write(update(2 + i, `${i} `.padEnd(2000, "x")), user))));
    expect(results.every((r) => r === 1403)).toBe(true);
    expect(lastOperation()).toBe(1);
    expect(Array.from({ length: 20 }, (_, i) => cityOf(2 + i)).some((c) => c.endsWith("xxx"))).toBe(false);
    expect(await loggedOps()).toEqual([1]);
    // Room again: the next write takes the next number.
    fs.rmSync(filler);
    expect(await outcome(store.write(update(2, "after"), user))).toBe(2);
    // What a restart finds: the log and the data file agree, nothing to replay.
    await store.close();
    await log.close();
    const reopened = await OperationLog.open({ logFile: path.join(disk!, "data.journal"), segmentsDir: path.join(disk!, "segments"), databaseId, lastOperation: lastOperation() });
    expect(reopened.pending).toEqual([]);
    expect(reopened.log.lastOperation).toBe(2);
    await reopened.log.close();
  });

  it("acknowledges none of a group when the log's file descriptor goes bad, refuses later writes, and a restart has nothing to replay", async () => {
    await setUp();
    expect(await outcome(store.write(update(1, "before"), user))).toBe(1);
    // The log's own descriptor closed under it: every write or flush on it now fails (EBADF).
    await (log as unknown as { fh: FileHandle }).fh.close();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => outcome(store.write(update(2 + i, `lost ${i}`), user))));
    expect(results.every((r) => r === 1403)).toBe(true);
    expect(await outcome(store.write(update(2, "later"), user))).toBe(1403);
    expect(lastOperation()).toBe(1);
    expect(Array.from({ length: 10 }, (_, i) => cityOf(2 + i)).some((c) => /lost|later/.test(c))).toBe(false);
    await store.close();
    const reopened = await OperationLog.open({ logFile: path.join(logDir, "data.journal"), segmentsDir: path.join(logDir, "segments"), databaseId, lastOperation: lastOperation() });
    expect(reopened.pending).toEqual([]);
    expect(reopened.log.lastOperation).toBe(1);
    await reopened.log.close();
  });
});
