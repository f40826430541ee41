// The data store on a real data file: reads with paging and filters, writes logged under gapless operation
// numbers, batches all or nothing, writes waiting for a held data lock while reads go on, cancel and refusals
// that change nothing, and a log that fails. The log here is a small in-memory fake; the real one is server/log.
import Database from "better-sqlite3";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DataStore, type WriteLog } from "./data-store";
import { isDomainError } from "../errors";
import { readBookkeeping } from "./bookkeeping";
import { createDemoDataFile, DEMO_COUNTS } from "../demo/demo-data";
import { BackupLocks } from "../locks/backup-locks";

import { STATUS } from "../isomorphic/status";
import { MAX_VALUE_BYTES, type Write } from "./write-ops";
import { MAX_LISTED_CHARS } from "./data-store";

/** A log record before its checksum, with the write's own fields (Omit over LogRecord's union would drop them). */
type Logged = { op: number; time: string; user: string | null } & Write;

/**
 * The log as the store sees it: records in append order, `groups` the size of each append (one flush each);
 * `failNext` makes the next append fail; `hold` keeps appends open.
 */
class MemoryLog implements WriteLog {
  records: Logged[] = [];
  groups: number[] = [];
  dropped: number[] = [];
  failNext = false;
  hold: Promise<void> | null = null;
  async appendGroup(records: Logged[]): Promise<void> {
    if (this.hold) await this.hold;
    if (this.failNext) {
      this.failNext = false;
      throw new Error("disk full while appending to the log file");
    }
    this.records.push(...structuredClone(records));
    this.groups.push(records.length);
  }
  async takeBack(firstOp: number): Promise<void> {
    const n = this.groups.pop()!;
    expect(this.records.at(-n)?.op).toBe(firstOp);
    this.dropped.push(...this.records.splice(-n).map((r) => r.op));
  }
}

let dir: string;
let dataFile: string;
let locks: BackupLocks;
let log: MemoryLog;
let store: DataStore;
const clock = () => new Date("2026-04-01T12:00:00Z");

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-store-"));
  dataFile = path.join(dir, "data.sqlite");
  createDemoDataFile(dataFile);
  const db = new Database(dataFile);
  db.exec("CREATE TABLE notes (body TEXT, score REAL); INSERT INTO notes VALUES ('first', 1.5), ('second 100%', 2), ('third_one', NULL)");
  db.close();
  locks = new BackupLocks();
  log = new MemoryLog();
  store = new DataStore({ dataFile, locks, log, now: clock });
});

afterEach(async () => {
  await store.close();
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
const cityOf = (id: number) => peek<{ city: string } | undefined>("SELECT city FROM customers WHERE id = ?", id)?.city;
/** The last operation number the data file holds (0 before the bookkeeping table exists: nothing written yet). */
function lastOperation(): number {
  const db = new Database(dataFile, { readonly: true });
  try {
    return readBookkeeping(db)?.lastOperation ?? 0;
  } finally {
    db.close();
  }
}

async function failure(p: Promise<unknown>): Promise<string | number> {
  try {
    await p;
    return "applied";
  } catch (err) {
    if (isDomainError(err) && err.status !== null) return err.status;
    if (isDomainError(err)) return err.code;
    return (err as Error).message;
  }
}

const settle = () => new Promise((r) => setImmediate(r));
const user = { user: "alice" };

describe("DataStore reads", () => {
  it("lists the tables with row counts, keys and columns, without Strongbox's own", () => {
    const tables = store.listTables();
    expect(tables.map((t) => [t.name, t.rowCount, t.primaryKey])).toEqual([
      ["customers", DEMO_COUNTS.customers, "id"],
      ["invoice_lines", expect.any(Number), "id"],
      ["invoices", DEMO_COUNTS.invoices, "id"],
      ["notes", 3, "rowid"],
      ["products", DEMO_COUNTS.products, "id"],
    ]);
    expect(tables[0].columns[0]).toEqual({ name: "id", type: "INTEGER", primaryKey: true, notNull: false });
    expect(tables[0].columns.find((c) => c.name === "name")).toEqual({ name: "name", type: "TEXT", primaryKey: false, notNull: true });
  });

  it("reads a page of rows in key order with the total", () => {
    const page = store.readRows("customers", { offset: 10, limit: 5 });
    expect(page).toMatchObject({ table: "customers", primaryKey: "id", offset: 10, limit: 5, total: DEMO_COUNTS.customers });
    expect(page.rows.map((r) => r.id)).toEqual([11, 12, 13, 14, 15]);
    expect(store.readRows("customers", { offset: 598, limit: 50 }).rows.map((r) => r.id)).toEqual([599, 600]);
  });

  it("includes the rowid of a table without a primary key column", () => {
    const page = store.readRows("notes", { offset: 0, limit: 10 });
    expect(page.primaryKey).toBe("rowid");
    expect(page.rows).toEqual([
      { rowid: 1, body: "first", score: 1.5 }, { rowid: 2, body: "second 100%", score: 2 }, { rowid: 3, body: "third_one", score: null },
    ]);
  });

  it("filters and sorts, with LIKE's wildcards taken literally", () => {
    const contains = (value: string) => store.readRows("notes", { offset: 0, limit: 10, filter: { column: "body", op: "contains", value } });
    expect(contains("%").rows.map((r) => r.body)).toEqual(["second 100%"]);
    expect(contains("_").rows.map((r) => r.body)).toEqual(["third_one"]);
    expect(contains("FIRST").rows.map((r) => r.body)).toEqual(["first"]);
    expect(store.readRows("notes", { offset: 0, limit: 10, filter: { column: "score", op: "eq", value: null } }).rows.map((r) => r.rowid)).toEqual([3]);
    expect(store.readRows("notes", { offset: 0, limit: 10, filter: { column: "rowid", op: "gt", value: 1 } }).total).toBe(2);
    const paris = store.readRows("customers", { offset: 0, limit: 500, filter: { column: "city", op: "eq", value: "Paris" } });
    expect(paris.total).toBe(peek<{ n: number }>("SELECT count(*) AS n FROM customers WHERE city = 'Paris'").n);
    expect(paris.rows.every((r) => r.city === "Paris")).toBe(true);
    const cheap = store.readRows("products", { offset: 0, limit: 3, filter: { column: "unit_price_cents", op: "lt", value: 5000 }, orderBy: { column: "unit_price_cents", direction: "desc" } });
    const prices = cheap.rows.map((r) => r.unit_price_cents as number);
    expect(prices).toEqual([...prices].sort((a, b) => b - a));
    expect(prices.every((p) => p < 5000)).toBe(true);
  });

  it("refuses a value over the limit before anything is written, in a single write or a batch", async () => {
    const big = "x".repeat(MAX_VALUE_BYTES + 1);
    const err = await store.write({ kind: "insert", table: "notes", values: { body: big } }, { user: "u" }).catch((e: unknown) => e);
    expect(isDomainError(err) && err.code).toBe("BAD_REQUEST");
    expect((err as Error).message).toMatch(/notes\.body has 1000001 bytes; the data API takes at most 1000000 bytes \(1 MB\) per value\. Nothing was written/);
    // Counted in UTF-8 bytes: 400,000 "é" are 800,000 bytes (accepted), 600,000 are 1.2 MB (refused).
    await expect(store.write({ kind: "batch", ops: [{ kind: "update", table: "notes", key: 1, values: { body: "é".repeat(600_000) } }] }, { user: "u" }))
      .rejects.toThrow(/1200000 bytes/);
    expect(log.records).toEqual([]);
    expect(store.lastOperation()).toBe(0);
    await store.write({ kind: "update", table: "notes", key: 1, values: { body: "é".repeat(400_000) } }, { user: "u" });
    expect(store.lastOperation()).toBe(1);
  });

  it("cuts long texts in a page of rows (marked, with their length) and gives the whole value cell by cell", () => {
    const db = new Database(dataFile);
    const long = "long text ".repeat(20_000); // 200,000 characters, written by another program
    db.prepare("UPDATE notes SET body = ? WHERE rowid = 2").run(long);
    db.prepare("CREATE TABLE files (id INTEGER PRIMARY KEY, content BLOB)").run();
    db.prepare("INSERT INTO files VALUES (1, ?)").run(Buffer.alloc(3000));
    db.prepare("UPDATE notes SET body = ? WHERE rowid = 3").run("y".repeat(MAX_VALUE_BYTES + 10));
    db.close();
    const page = store.readRows("notes", { offset: 0, limit: 10 });
    expect(page.rows[0]).toEqual({ rowid: 1, body: "first", score: 1.5 });
    expect(page.rows[1]!.body).toBe(`${long.slice(0, MAX_LISTED_CHARS)}… [200000 characters in all]`);
    expect(page.truncated).toEqual([{ row: 1, column: "body", chars: 200_000 }, { row: 2, column: "body", chars: MAX_VALUE_BYTES + 10 }]);
    expect(store.readRows("files", { offset: 0, limit: 10 }).rows).toEqual([{ id: 1, content: "[BLOB, 3000 bytes]" }]);
    expect(store.readCell("notes", 2, "body")).toEqual({ value: long });
    expect(store.readCell("notes", 1, "score")).toEqual({ value: 1.5 });
    expect(() => store.readCell("notes", 3, "body")).toThrow(/1000010 bytes, more than the 1000000 bytes the data API sends/);
    expect(() => store.readCell("notes", 99, "body")).toThrow(/no longer a row of "notes" with rowid = 99/);
    expect(() => store.readCell("notes", 1, "nope")).toThrow(/has no column "nope"/);
  });

  it("refuses bad names and page sizes with clear errors", () => {
    const code = (fn: () => unknown) => { try { fn(); return "read"; } catch (err) { return isDomainError(err) ? err.code : String(err); } };
    expect(code(() => store.readRows("nope", { offset: 0, limit: 10 }))).toBe("NOT_FOUND");
    expect(code(() => store.readRows("strongbox_bookkeeping", { offset: 0, limit: 10 }))).toBe("BAD_REQUEST");
    expect(code(() => store.readRows("customers; DROP TABLE notes", { offset: 0, limit: 10 }))).toBe("BAD_REQUEST");
    expect(code(() => store.readRows("customers", { offset: 0, limit: 10, filter: { column: "x\" OR 1=1 --", op: "eq", value: 1 } }))).toBe("BAD_REQUEST");
    expect(code(() => store.readRows("customers", { offset: 0, limit: 10, orderBy: { column: "nope", direction: "asc" } }))).toBe("BAD_REQUEST");
    expect(code(() => store.readRows("customers", { offset: 0, limit: 10, orderBy: { column: "id", direction: "asc; DROP TABLE notes" as "asc" } }))).toBe("BAD_REQUEST");
    expect(code(() => store.readRows("customers", { offset: 0, limit: 501 }))).toBe("BAD_REQUEST");
    expect(code(() => store.readRows("customers", { offset: -1, limit: 10 }))).toBe("BAD_REQUEST");
    expect(peek<{ n: number }>("SELECT count(*) AS n FROM notes").n).toBe(3);
  });
});

describe("DataStore writes", () => {
  it("applies inserts, updates and deletes, logging each under the next operation number", async () => {
    const inserted = await store.write({ kind: "insert", table: "customers", values: { name: "Ada", created_at: "2026-04-01" } }, user);
    expect(inserted).toEqual({ operation: 1, applied: { kind: "insert", table: "customers", values: { name: "Ada", created_at: "2026-04-01" }, key: 601 } });
    expect((await store.write({ kind: "update", table: "customers", key: 601, values: { city: "London" } }, user)).operation).toBe(2);
    expect(cityOf(601)).toBe("London");
    expect((await store.write({ kind: "delete", table: "customers", key: 601 }, { user: null })).operation).toBe(3);
    expect(cityOf(601)).toBeUndefined();
    expect(log.records).toEqual([
      { op: 1, time: "2026-04-01T12:00:00.000Z", user: "alice", kind: "insert", table: "customers", values: { name: "Ada", created_at: "2026-04-01" }, key: 601 },
      { op: 2, time: "2026-04-01T12:00:00.000Z", user: "alice", kind: "update", table: "customers", key: 601, values: { city: "London" } },
      { op: 3, time: "2026-04-01T12:00:00.000Z", user: null, kind: "delete", table: "customers", key: 601 },
    ]);
    expect(lastOperation()).toBe(3);
    expect(store.lastOperation()).toBe(3);
  });

  it("applies a batch all or nothing under one operation number", async () => {
    const ok = await store.write({ kind: "batch", ops: [
      { kind: "insert", table: "notes", values: { body: "batched" } },
      { kind: "update", table: "customers", key: 1, values: { city: "Batch City" } },
    ] }, user);
    expect(ok.operation).toBe(1);
    expect(ok.applied).toMatchObject({ kind: "batch", ops: [{ key: 4 }, { kind: "update" }] });

    // The second operation fails: the first is not applied either, and the operation number is not used up.
    expect(await failure(store.write({ kind: "batch", ops: [
      { kind: "update", table: "customers", key: 2, values: { city: "Half-applied?" } },
      { kind: "delete", table: "customers", key: 99_999 },
    ] }, user))).toBe("NOT_FOUND");
    expect(cityOf(2)).not.toBe("Half-applied?");
    expect(lastOperation()).toBe(1);
    expect((await store.write({ kind: "update", table: "customers", key: 2, values: { city: "Next" } }, user)).operation).toBe(2);
    expect(log.records.map((r) => r.op)).toEqual([1, 2]);
  });

  it("applies schema changes like any write", async () => {
    await store.write({ kind: "createTable", table: "visits", columns: [{ name: "id", type: "INTEGER", primaryKey: true }, { name: "place", type: "TEXT" }] }, user);
    await store.write({ kind: "addColumn", table: "visits", column: { name: "rating", type: "INTEGER" } }, user);
    const r = await store.write({ kind: "insert", table: "visits", values: { place: "Porto", rating: 5 } }, user);
    expect(r).toMatchObject({ operation: 3, applied: { key: 1 } });
    expect(store.readRows("visits", { offset: 0, limit: 10 }).rows).toEqual([{ id: 1, place: "Porto", rating: 5 }]);
    expect(store.listTables().map((t) => t.name)).toContain("visits");
  });

  it("refuses names that try to inject SQL, applies nothing and uses no operation number", async () => {
    const names = ["t; DROP TABLE notes", "\"a\" OR 1=1", "notes\"; DELETE FROM customers; --", "x'y", "nоtes" /* Cyrillic о */, "notes\u200b", "strongbox_bookkeeping"];
    for (const name of names) {
      expect(await failure(store.write({ kind: "delete", table: name, key: 1 }, user)), name).toBe("BAD_REQUEST");
      expect(await failure(store.write({ kind: "update", table: "customers", key: 1, values: { [name]: "x" } }, user)), name).toBe("BAD_REQUEST");
      expect(await failure(store.write({ kind: "createTable", table: name, columns: [{ name: "a", type: "TEXT" }] }, user)), name).toBe("BAD_REQUEST");
      expect(await failure(store.write({ kind: "addColumn", table: "notes", column: { name, type: "TEXT" } }, user)), name).toBe("BAD_REQUEST");
    }
    expect(peek<{ n: number }>("SELECT count(*) AS n FROM notes").n).toBe(3);
    expect(peek<{ n: number }>("SELECT count(*) AS n FROM customers").n).toBe(DEMO_COUNTS.customers);
    expect(store.readRows("notes", { offset: 0, limit: 1 }).columns.map((c) => c.name)).toEqual(["body", "score"]);
    expect(lastOperation()).toBe(0);
    expect(log.records).toEqual([]);
  });

  it("runs concurrent writes one at a time, numbered gaplessly in arrival order", async () => {
    const writes = Array.from({ length: 20 }, (_, i) =>
      store.write({ kind: "update", table: "customers", key: 1 + (i % 3), values: { notes: `write ${i}` } }, user));
    const results = await Promise.all(writes);
    expect(results.map((r) => r.operation)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(log.records.map((r) => r.op)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(log.records.map((r) => (r.kind === "update" ? r.values.notes : null))).toEqual(Array.from({ length: 20 }, (_, i) => `write ${i}`));
    expect(lastOperation()).toBe(20);
  });

  it("keeps counting operations with the log file off", async () => {
    const noLog = new DataStore({ dataFile, locks, log: null });
    try {
      await noLog.write({ kind: "update", table: "customers", key: 1, values: { city: "A" } }, user);
      expect((await noLog.write({ kind: "update", table: "customers", key: 1, values: { city: "B" } }, user)).operation).toBe(2);
      expect(lastOperation()).toBe(2);
    } finally {
      await noLog.close();
    }
  });

  it("applies nothing when the log append fails, and the number is used by the next write", async () => {
    log.failNext = true;
    expect(await failure(store.write({ kind: "update", table: "customers", key: 1, values: { city: "Unlogged" } }, user)))
      .toBe("disk full while appending to the log file");
    expect(cityOf(1)).not.toBe("Unlogged");
    expect(lastOperation()).toBe(0);
    expect((await store.write({ kind: "update", table: "customers", key: 1, values: { city: "Logged" } }, user)).operation).toBe(1);
    expect(cityOf(1)).toBe("Logged");
    expect(log.records.map((r) => r.op)).toEqual([1]);
  });

  it("takes the log record back when the data file refuses to commit after the append", async () => {
    // A deferred foreign key is checked at COMMIT, after the record was appended.
    await store.write({ kind: "createTable", table: "parents", columns: [{ name: "id", type: "INTEGER", primaryKey: true }] }, user);
    const db = new Database(dataFile);
    db.exec("CREATE TABLE children (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED)");
    db.close();
    expect(await failure(store.write({ kind: "insert", table: "children", values: { parent: 42 } }, user))).toBe("CONFLICT");
    expect(log.dropped).toEqual([2]);
    expect(log.records.map((r) => r.op)).toEqual([1]);
    expect(peek<{ n: number }>("SELECT count(*) AS n FROM children").n).toBe(0);
    expect(lastOperation()).toBe(1);
    expect((await store.write({ kind: "insert", table: "parents", values: {} }, user)).operation).toBe(2);
  });

  it("reads see the last commit, never a write whose log record is still being flushed", async () => {
    let open!: () => void;
    log.hold = new Promise((r) => { open = r; });
    const pending = store.write({ kind: "update", table: "customers", key: 5, values: { city: "Pending" } }, user);
    await settle();
    expect(store.readRows("customers", { offset: 4, limit: 1 }).rows[0].city).not.toBe("Pending");
    open();
    await pending;
    expect(store.readRows("customers", { offset: 4, limit: 1 }).rows[0].city).toBe("Pending");
  });
});

describe("DataStore and the data write lock", () => {
  it("makes writes wait while the lock is held, reads answer at once, then the writes apply in order", async () => {
    const release = await locks.acquire("data");
    const first = store.write({ kind: "update", table: "customers", key: 1, values: { city: "During backup 1" } }, user);
    const second = store.write({ kind: "update", table: "customers", key: 1, values: { city: "During backup 2" } }, user);
    await settle();
    expect(locks.state().data.waiting).toBe(2);
    // Reads go on, and see the data as it was.
    const page = store.readRows("customers", { offset: 0, limit: 1 });
    expect(page.rows[0].city).not.toMatch(/During backup/);
    expect(store.listTables()).toHaveLength(5);
    expect(cityOf(1)).not.toMatch(/During backup/);
    expect(log.records).toEqual([]);
    release();
    expect((await first).operation).toBe(1);
    expect((await second).operation).toBe(2);
    expect(cityOf(1)).toBe("During backup 2");
  });

  it("leaves the row unchanged when a waiting write is cancelled or refuses to wait", async () => {
    const before = cityOf(1);
    const release = await locks.acquire("data");
    const controller = new AbortController();
    const bySignal = store.write({ kind: "update", table: "customers", key: 1, values: { city: "Cancelled 1" } }, { ...user, signal: controller.signal });
    const byId = store.write({ kind: "update", table: "customers", key: 1, values: { city: "Cancelled 2" } }, { ...user, requestId: "req-42" });
    const noWait = store.write({ kind: "update", table: "customers", key: 1, values: { city: "Not waiting" } }, { ...user, noWait: true });
    controller.abort();
    expect(locks.cancel("req-42")).toBe(true);
    expect(await failure(bySignal)).toBe(STATUS.BACKUP_IN_PROGRESS);
    expect(await failure(byId)).toBe(STATUS.BACKUP_IN_PROGRESS);
    expect(await failure(noWait)).toBe(STATUS.BACKUP_IN_PROGRESS);
    release();
    await settle();
    expect(cityOf(1)).toBe(before);
    expect(lastOperation()).toBe(0);
    expect(log.records).toEqual([]);
    // The next write takes operation 1: cancelled writes use no number.
    expect((await store.write({ kind: "update", table: "customers", key: 1, values: { city: "After" } }, user)).operation).toBe(1);
  });

  it("holds the backup until a running write has committed", async () => {
    let open!: () => void;
    log.hold = new Promise((r) => { open = r; });
    const running = store.write({ kind: "update", table: "customers", key: 1, values: { city: "In flight" } }, user);
    await settle();
    let acquired = false;
    const acquiring = locks.acquire("data").then((r) => { acquired = true; return r; });
    await settle();
    expect(acquired).toBe(false);
    open();
    await running;
    const release = await acquiring;
    // By the time the backup holds the lock, the write is committed: the snapshot will contain it.
    expect(cityOf(1)).toBe("In flight");
    expect(lastOperation()).toBe(1);
    release();
  });

  it("refuses a malformed write at once, without waiting for the lock", async () => {
    const release = await locks.acquire("data");
    const refused = store.write({ kind: "delete", table: "bad name!", key: 1 }, user);
    expect(locks.state().data.waiting).toBe(0);
    expect(await failure(refused)).toBe("BAD_REQUEST");
    release();
  });
});

describe("another program holding the data file's write lock", () => {
  it("makes a write wait without freezing the event loop, then apply", async () => {
    await store.write({ kind: "update", table: "notes", key: 1, values: { score: 0 } }, { user: "a" }); // opens the store
    const other = new Database(dataFile);
    other.exec("BEGIN IMMEDIATE");
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const pending = store.write({ kind: "update", table: "notes", key: 1, values: { score: 42 } }, { user: "a" });
    await new Promise((r) => setTimeout(r, 150));
    const ticksWhileBlocked = ticks;
    other.exec("COMMIT");
    other.close();
    await pending;
    clearInterval(timer);
    // The loop went on turning while the write waited (a busy handler inside SQLite would have frozen it).
    expect(ticksWhileBlocked).toBeGreaterThan(5);
    expect(peek<{ score: number }>("SELECT score FROM notes WHERE rowid = 1")).toEqual({ score: 42 });
  });
});
