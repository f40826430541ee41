// Log integration: a snapshot plus the log written after it (log backups, a segment a failed backup left, the
// current log) gives exactly the live data file, row by row; up to operation N gives the data file as it was at N;
// incomplete or contradictory logs and a data file that doesn't match are refused, changing nothing.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ensureBookkeeping, readBookkeeping } from "../data/bookkeeping";
import { DataStore } from "../data/data-store";
import type { LogRecord, UnsignedLogRecord, Write } from "../data/write-ops";
import { BackupLocks } from "../locks/backup-locks";
import { collectOperations, integrateLog } from "./integration";
import { removeSegments, writeLogBackup } from "./log-backup";
import { OperationLog } from "./log-file";
import { SEGMENTS_FOLDER } from "../database/layout";
import { formatHeader, formatRecord } from "./read-log";

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "strongbox-integrate-"));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Every table (schema and rows, rowids included), bookkeeping and sqlite_sequence too. */
function dump(file: string) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string; sql: string }>;
    return tables.map((t) => ({ ...t, rows: db.prepare(`SELECT rowid AS __rowid, * FROM "${t.name}" ORDER BY rowid`).all() }));
  } finally {
    db.close();
  }
}

/** The snapshot the engine takes: VACUUM INTO from a separate connection. */
function snapshot(live: string, target: string): number {
  const db = new Database(live, { readonly: true });
  try {
    db.prepare("VACUUM INTO ?").run(target);
  } finally {
    db.close();
  }
  const snap = new Database(target, { readonly: true });
  try {
    return readBookkeeping(snap)!.lastOperation;
  } finally {
    snap.close();
  }
}

describe("a snapshot plus its log gives the live data file", () => {
  it("replays log backups, a segment a failed backup left and the current log, in any order; and stops at operation N", async () => {
    const dataFile = path.join(dir, "Data", "data.sqlite");
    const segmentsDir = path.join(dir, "Logs", SEGMENTS_FOLDER);
    const destination = path.join(dir, "backups");
    await fs.mkdir(path.dirname(dataFile), { recursive: true });
    await fs.mkdir(destination);
    new Database(dataFile).close();
    const { databaseId } = ensureBookkeeping(dataFile);
    const { log } = await OperationLog.open({ logFile: path.join(dir, "Data", "data.journal"), segmentsDir, databaseId, lastOperation: 0 });
    const store = new DataStore({ dataFile, locks: new BackupLocks(), log });
    const write = (w: Write) => store.write(w, { user: "alice" });

    // Before the first backup: schema and rows, in a keyed table, a rowid table and a text-keyed one.
    await write({ kind: "createTable", table: "customers", columns: [
      { name: "id", type: "INTEGER", primaryKey: true }, { name: "name", type: "TEXT", notNull: true }, { name: "score", type: "REAL" }] });
    await write({ kind: "createTable", table: "notes", columns: [{ name: "title", type: "TEXT" }, { name: "body", type: "TEXT" }] });
    await write({ kind: "createTable", table: "tags", columns: [{ name: "code", type: "TEXT", primaryKey: true }, { name: "label", type: "TEXT" }] });
    for (let i = 1; i <= 40; i++) await write({ kind: "insert", table: "customers", values: { name: `customer ${i}`, score: i / 3 } });
    for (let i = 1; i <= 10; i++) await write({ kind: "insert", table: "notes", values: { title: `note ${i}`, body: null } });
    await write({ kind: "insert", table: "tags", values: { code: "vip", label: "VIP" } });

    // Backup 1: snapshot, the log closed there; its segment goes into [0000] once the archive commits.
    const snap1 = path.join(dir, "snap1.sqlite");
    const snap1Last = snapshot(dataFile, snap1);
    const snap1Copy = path.join(dir, "snap1-copy.sqlite");
    await fs.copyFile(snap1, snap1Copy);
    await log.rotate();
    await writeLogBackup({ destination, databaseName: "Demo", number: 0, databaseId, segments: await log.closedSegments() })
      .then(async () => removeSegments(await log.closedSegments()));

    // Updates, deletes (the rowid table's last row too, so that the next insert reuses its rowid), a batch, schema changes.
    for (let i = 1; i <= 40; i += 4) await write({ kind: "update", table: "customers", key: i, values: { score: -i, name: `renamed ${i}` } });
    for (let i = 2; i <= 40; i += 7) await write({ kind: "delete", table: "customers", key: i });
    await write({ kind: "delete", table: "notes", key: 10 });
    await write({ kind: "insert", table: "notes", values: { title: "reused rowid", body: "x" } });
    await write({ kind: "addColumn", table: "customers", column: { name: "email", type: "TEXT" } });
    await write({ kind: "batch", ops: [
      { kind: "insert", table: "customers", values: { name: "batch one", email: "one@example.com" } },
      { kind: "update", table: "customers", key: 1, values: { email: "first@example.com" } },
      { kind: "delete", table: "tags", key: "vip" },
      { kind: "insert", table: "tags", values: { code: "new", label: "New" } },
    ] });

    // Backup 2 commits: its segment goes into [0001].
    const snap2 = path.join(dir, "snap2.sqlite");
    const snap2Last = snapshot(dataFile, snap2);
    await log.rotate();
    await writeLogBackup({ destination, databaseName: "Demo", number: 1, databaseId, segments: await log.closedSegments() })
      .then(async () => removeSegments(await log.closedSegments()));

    await write({ kind: "createTable", table: "orders", columns: [{ name: "n", type: "INTEGER", primaryKey: true }, { name: "customer", type: "INTEGER" }] });
    for (let i = 1; i <= 15; i++) await write({ kind: "insert", table: "orders", values: { customer: i } });
    const atN = path.join(dir, "at-n.sqlite");
    const N = snapshot(dataFile, atN);
    for (let i = 3; i <= 40; i += 5) if ((i - 2) % 7 !== 0) await write({ kind: "update", table: "customers", key: i, values: { score: 1000 + i } });

    // Backup 3 fails after its snapshot: its segment stays for the next log backup.
    await log.rotate();
    expect(await log.closedSegments()).toHaveLength(1);
    for (let i = 1; i <= 5; i++) await write({ kind: "update", table: "orders", key: i, values: { customer: null } });
    await write({ kind: "delete", table: "notes", key: 3 });
    const liveLast = store.lastOperation();
    await store.close();
    await log.close();

    expect(0).toBeLessThan(snap1Last);
    expect(snap1Last).toBeLessThan(snap2Last);
    expect(snap2Last).toBeLessThan(N);
    expect(N).toBeLessThan(liveLast);
    const sources = [
      path.join(dir, "Data", "data.journal"),
      ...(await log.closedSegments()).map((s) => s.path),
      path.join(destination, "Demo[0001].4BL"),
      path.join(destination, "Demo[0000].4BL"),
    ];

    // Everything, into the first snapshot.
    const records = await collectOperations({ sources, databaseId, afterOperation: snap1Last });
    expect(records.map((r) => r.op)).toEqual(Array.from({ length: liveLast - snap1Last }, (_, i) => snap1Last + 1 + i));
    const result = await integrateLog({ dataFile: snap1, records, databaseId, afterOperation: snap1Last });
    expect(result).toEqual({ applied: liveLast - snap1Last, lastOperation: liveLast });
    expect(dump(snap1)).toEqual(dump(dataFile));

    // Everything, into the second snapshot (the sources also hold operations it already has).
    await integrateLog({ dataFile: snap2, records: await collectOperations({ sources, databaseId, afterOperation: snap2Last }) });
    expect(dump(snap2)).toEqual(dump(dataFile));

    // Up to operation N, into another copy of the first snapshot: the data file as it was at N.
    const upToN = await collectOperations({ sources, databaseId, afterOperation: snap1Last, upToOperation: N });
    expect(upToN.at(-1)!.op).toBe(N);
    await integrateLog({ dataFile: snap1Copy, records: upToN, databaseId });
    expect(dump(snap1Copy)).toEqual(dump(atN));
    expect(dump(snap1Copy)).not.toEqual(dump(dataFile));
  });
});

const DB = "c7f3a9d2-5e1b-4f60-8a2d-9b4e1c0d3f57";
const insertRec = (op: number, name = `r${op}`): UnsignedLogRecord =>
  ({ op, time: "2026-11-26T10:00:00.000Z", user: "alice", kind: "insert", table: "t", key: op, values: { name } }) as UnsignedLogRecord;

/** A log file by hand: header, then the records of `ops`, then an optional tail. */
async function logWith(name: string, firstOperation: number, ops: number[], opts: { tail?: string; rename?: Record<number, string>; databaseId?: string } = {}): Promise<string> {
  const p = path.join(dir, name);
  await fs.writeFile(p, formatHeader({ type: "header", format: 1, databaseId: opts.databaseId ?? DB, firstOperation, createdAt: "2026-11-26T10:00:00.000Z" }) + "\n" +
    ops.map((op) => formatRecord(insertRec(op, opts.rename?.[op])).line + "\n").join("") + (opts.tail ?? ""));
  return p;
}

describe("collectOperations", () => {
  it("orders the operations of overlapping sources and keeps only those after the snapshot, up to N", async () => {
    const a = await logWith("a.4BL", 1, [1, 2, 3, 4, 5]);
    const b = await logWith("b.journal", 4, [4, 5, 6, 7], { tail: formatRecord(insertRec(8)).line.slice(0, 20) });
    expect((await collectOperations({ sources: [b, a], databaseId: DB, afterOperation: 2 })).map((r) => r.op)).toEqual([3, 4, 5, 6, 7]);
    expect((await collectOperations({ sources: [b, a], databaseId: DB, afterOperation: 2, upToOperation: 5 })).map((r) => r.op)).toEqual([3, 4, 5]);
    expect(await collectOperations({ sources: [a], databaseId: DB, afterOperation: 5 })).toEqual([]);
    expect(await collectOperations({ sources: [a], databaseId: DB, afterOperation: 3, upToOperation: 3 })).toEqual([]);
  });

  it("refuses a missing range (1416), naming the missing operations", async () => {
    const a = await logWith("a.4BL", 1, [1, 2, 3]);
    const c = await logWith("c.journal", 7, [7, 8]);
    const err = await collectOperations({ sources: [a, c], databaseId: DB, afterOperation: 1 }).catch((e) => e);
    expect(err).toMatchObject({ name: "DomainError", status: 1416 });
    expect(err.message).toMatch(/operations 4 to 6 are in none of the log files read/);
    await expect(collectOperations({ sources: [a], databaseId: DB, afterOperation: 0, upToOperation: 5 }))
      .rejects.toMatchObject({ status: 1416, message: expect.stringMatching(/operations 4 to 5 are in none/) });
    // Nothing at all after the snapshot's last operation: the chain must start right after it.
    await expect(collectOperations({ sources: [c], databaseId: DB, afterOperation: 3 }))
      .rejects.toMatchObject({ status: 1416, message: expect.stringMatching(/operations 4 to 6/) });
  });

  it("refuses an operation that differs between two sources (1416)", async () => {
    const a = await logWith("a.4BL", 1, [1, 2, 3]);
    const b = await logWith("b.journal", 3, [3, 4], { rename: { 3: "changed" } });
    await expect(collectOperations({ sources: [a, b], databaseId: DB, afterOperation: 0 }))
      .rejects.toMatchObject({ status: 1416, message: expect.stringMatching(/Operation 3 is not the same in/) });
  });

  it("refuses another database's log (1416), a damaged one (1403) and a stop point before the data file", async () => {
    const foreign = await logWith("f.4BL", 1, [1], { databaseId: "another" });
    await expect(collectOperations({ sources: [foreign], databaseId: DB, afterOperation: 0 })).rejects.toMatchObject({ status: 1416 });
    const damaged = await logWith("d.4BL", 1, [1], { tail: "garbage\n" });
    await expect(collectOperations({ sources: [damaged], databaseId: DB, afterOperation: 0 })).rejects.toMatchObject({ status: 1403 });
    const a = await logWith("a.4BL", 1, [1, 2, 3]);
    await expect(collectOperations({ sources: [a], databaseId: DB, afterOperation: 2, upToOperation: 1 }))
      .rejects.toMatchObject({ message: expect.stringMatching(/can't stop at operation 1: the data file is already at operation 2/) });
  });
});

describe("integrateLog", () => {
  /** A data file of database DB holding table t and the rows of operations 1…last. */
  async function dataFileAt(last: number): Promise<string> {
    const file = path.join(dir, `data-${last}-${Math.random().toString(36).slice(2)}.sqlite`);
    const db = new Database(file);
    db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
      CREATE TABLE strongbox_bookkeeping (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
    db.prepare("INSERT INTO strongbox_bookkeeping VALUES ('database_id', ?), ('last_operation', ?)").run(DB, String(last));
    for (let op = 1; op <= last; op++) db.prepare("INSERT INTO t VALUES (?, ?)").run(op, `r${op}`);
    db.close();
    return file;
  }
  const recordsOf = async (first: number, last: number, rename: Record<number, string> = {}) =>
    collectOperations({ sources: [await logWith(`l-${first}-${last}.journal`, first, Array.from({ length: last - first + 1 }, (_, i) => first + i), { rename })],
      databaseId: DB, afterOperation: first - 1 });
  const state = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      return { last: readBookkeeping(db)!.lastOperation, rows: (db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n };
    } finally {
      db.close();
    }
  };

  it("refuses, changing nothing, a data file of another database or not at the operation the records follow (1416)", async () => {
    const file = await dataFileAt(3);
    const records = await recordsOf(5, 6);
    await expect(integrateLog({ dataFile: file, records })).rejects.toMatchObject({ status: 1416, message: expect.stringMatching(/is at operation 3, but the operations to integrate start at 5/) });
    await expect(integrateLog({ dataFile: file, records: await recordsOf(4, 5), databaseId: "another" }))
      .rejects.toMatchObject({ status: 1416, message: expect.stringMatching(/belongs to another database/) });
    expect(state(file)).toEqual({ last: 3, rows: 3 });
  });

  it("leaves the data file at the last whole operation when one can't be replayed", async () => {
    const file = await dataFileAt(2);
    const records = await recordsOf(3, 6, { 5: "r1" }); // operation 5 breaks the UNIQUE constraint
    await expect(integrateLog({ dataFile: file, records, databaseId: DB }))
      .rejects.toMatchObject({ status: 1409, message: expect.stringMatching(/Operation 5 could not be replayed .* holds the operations up to 4/) });
    expect(state(file)).toEqual({ last: 4, rows: 4 });
  });

  it("stops between two operations when asked, reporting progress on the way", async () => {
    const file = await dataFileAt(0);
    const records = await recordsOf(1, 350);
    const stop = new AbortController();
    const progress: number[] = [];
    const err = await integrateLog({ dataFile: file, records, signal: stop.signal, onProgress: (done) => {
      progress.push(done);
      if (done === 200) stop.abort();
    } }).catch((e) => e);
    expect(err).toMatchObject({ status: 1406, message: expect.stringMatching(/holds the operations up to 200/) });
    expect(progress).toEqual([100, 200]);
    expect(state(file)).toEqual({ last: 200, rows: 200 });
    // The rest can be integrated afterwards.
    await integrateLog({ dataFile: file, records: records.slice(200), databaseId: DB, afterOperation: 200 });
    expect(state(file)).toEqual({ last: 350, rows: 350 });
  });
});
