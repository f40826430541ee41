// applyWrite on a real SQLite data file (the demo's tables plus a few of odd shapes): each kind of write, keys for
// replays, clear refusals that change nothing, and names that try to smuggle SQL in.
import Database from "better-sqlite3";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyWrite, listTables, tableInfo, type DataErrorCode } from "./apply-write";
import { isDomainError } from "../errors";
import { ensureBookkeeping } from "./bookkeeping";
import { createDemoDataFile } from "../demo/demo-data";
import type { Write } from "./write-ops";

let dir: string;
let db: Database.Database;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-apply-"));
  const file = path.join(dir, "data.sqlite");
  createDemoDataFile(file);
  ensureBookkeeping(file);
  db = new Database(file);
  db.exec(`
    CREATE TABLE notes (body TEXT, pinned INTEGER);
    CREATE TABLE pairs (a TEXT, b TEXT, note TEXT, PRIMARY KEY (a, b));
    CREATE TABLE tags (code TEXT PRIMARY KEY, label TEXT NOT NULL);
    CREATE TABLE "odd name" (x);
    CREATE TABLE x (id INTEGER PRIMARY KEY);
  `);
});

afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Applies in a transaction that commits on success and rolls back on failure, as the data store does. */
function apply(write: Write): Write {
  return db.transaction(() => applyWrite(db, write))();
}

function codeOf(fn: () => unknown): DataErrorCode | string {
  try {
    fn();
    return "applied";
  } catch (err) {
    return isDomainError(err) ? err.code : `not a DataError: ${String(err)}`;
  }
}

/** Everything in the data file, to show that a refused write changed nothing. */
function dump(): string {
  const schema = db.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all();
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>)
    .map(({ name }) => [name, db.prepare(`SELECT * FROM "${name.replace(/"/g, '""')}" ORDER BY rowid`).all()]);
  return JSON.stringify({ schema, tables });
}

const customer = (id: number) => db.prepare("SELECT * FROM customers WHERE id = ?").get(id) as Record<string, unknown> | undefined;

describe("applyWrite", () => {
  it("inserts a row and returns its primary key", () => {
    const applied = apply({ kind: "insert", table: "customers", values: { name: "Ada Lovelace", created_at: "2026-01-01T00:00:00Z", city: "London" } });
    expect(applied).toEqual({ kind: "insert", table: "customers", values: { name: "Ada Lovelace", created_at: "2026-01-01T00:00:00Z", city: "London" }, key: 601 });
    expect(customer(601)).toMatchObject({ name: "Ada Lovelace", city: "London" });
  });

  it("gives a table without a single-column primary key its rowid as key", () => {
    const first = apply({ kind: "insert", table: "notes", values: { body: "first", pinned: true } });
    const second = apply({ kind: "insert", table: "pairs", values: { a: "x", b: "y" } });
    expect(first).toMatchObject({ key: 1 });
    expect(second).toMatchObject({ key: 1 });
    expect(db.prepare("SELECT rowid, * FROM notes").all()).toEqual([{ rowid: 1, body: "first", pinned: 1 }]);
    expect(tableInfo(db, "pairs")).toMatchObject({ primaryKey: "rowid", keyIsRowid: true });
    expect(tableInfo(db, "tags")).toMatchObject({ primaryKey: "code", keyIsRowid: false });
  });

  it("replays an insert with its logged key: the same primary key or rowid", () => {
    apply({ kind: "insert", table: "customers", values: { name: "Replayed", created_at: "2026-01-01" }, key: 5000 });
    apply({ kind: "insert", table: "notes", values: { body: "replayed" }, key: 42 });
    apply({ kind: "insert", table: "tags", values: { label: "Red" }, key: "red" });
    expect(customer(5000)).toMatchObject({ name: "Replayed" });
    expect(db.prepare("SELECT rowid, body FROM notes").all()).toEqual([{ rowid: 42, body: "replayed" }]);
    expect(db.prepare("SELECT * FROM tags").all()).toEqual([{ code: "red", label: "Red" }]);
    // The key and a value of the key column must agree.
    expect(apply({ kind: "insert", table: "tags", values: { code: "blue", label: "Blue" }, key: "blue" })).toMatchObject({ key: "blue" });
    const before = dump();
    expect(codeOf(() => apply({ kind: "insert", table: "tags", values: { code: "green", label: "Green" }, key: "olive" }))).toBe("BAD_REQUEST");
    expect(dump()).toBe(before);
  });

  it("updates and deletes a row by its key, booleans stored as 1 and 0", () => {
    apply({ kind: "update", table: "customers", key: 7, values: { city: "Oslo", notes: null } });
    expect(customer(7)).toMatchObject({ city: "Oslo", notes: null });
    const { key } = apply({ kind: "insert", table: "notes", values: { body: "n", pinned: false } }) as { key: number };
    apply({ kind: "update", table: "notes", key, values: { pinned: true } });
    expect(db.prepare("SELECT pinned FROM notes WHERE rowid = ?").get(key)).toEqual({ pinned: 1 });
    const { key: added } = apply({ kind: "insert", table: "customers", values: { name: "Short-lived", created_at: "2026-01-01" } }) as { key: number };
    apply({ kind: "delete", table: "customers", key: added });
    expect(customer(added)).toBeUndefined();
    apply({ kind: "delete", table: "notes", key });
    expect(db.prepare("SELECT count(*) AS n FROM notes").get()).toEqual({ n: 0 });
  });

  it("refuses a row that does not exist with NOT_FOUND, changing nothing", () => {
    const before = dump();
    expect(codeOf(() => apply({ kind: "update", table: "customers", key: 99_999, values: { city: "Nowhere" } }))).toBe("NOT_FOUND");
    expect(codeOf(() => apply({ kind: "delete", table: "customers", key: 99_999 }))).toBe("NOT_FOUND");
    expect(codeOf(() => apply({ kind: "delete", table: "customers", key: null }))).toBe("NOT_FOUND");
    expect(dump()).toBe(before);
  });

  it("refuses unknown tables and columns, and an update with no value", () => {
    const before = dump();
    expect(codeOf(() => apply({ kind: "insert", table: "nope", values: { a: 1 } }))).toBe("NOT_FOUND");
    expect(codeOf(() => apply({ kind: "update", table: "customers", key: 1, values: { nope: 1 } }))).toBe("BAD_REQUEST");
    expect(codeOf(() => apply({ kind: "update", table: "customers", key: 1, values: {} }))).toBe("BAD_REQUEST");
    expect(codeOf(() => apply({ kind: "update", table: "customers", key: 1, values: { city: "A", CITY: "B" } }))).toBe("BAD_REQUEST");
    expect(dump()).toBe(before);
  });

  it("takes names in any case, as SQLite does", () => {
    apply({ kind: "update", table: "Customers", key: 3, values: { CITY: "Riga" } });
    expect(customer(3)).toMatchObject({ city: "Riga" });
  });

  it("turns constraint violations into CONFLICT and BAD_REQUEST", () => {
    const sku = (db.prepare("SELECT sku FROM products WHERE id = 1").get() as { sku: string }).sku;
    const before = dump();
    expect(codeOf(() => apply({ kind: "update", table: "products", key: 2, values: { sku } }))).toBe("CONFLICT");
    expect(codeOf(() => apply({ kind: "insert", table: "customers", values: { id: 1, name: "Dup", created_at: "x" } }))).toBe("CONFLICT");
    expect(codeOf(() => apply({ kind: "insert", table: "customers", values: { city: "No name" } }))).toBe("BAD_REQUEST");
    expect(codeOf(() => apply({ kind: "insert", table: "customers", values: { id: "abc", name: "N", created_at: "x" } }))).toBe("BAD_REQUEST");
    expect(codeOf(() => apply({ kind: "insert", table: "tags", values: { label: "no code" } }))).toBe("BAD_REQUEST");
    // Foreign keys hold: a customer with invoices stays, an invoice line needs an existing invoice.
    const withInvoices = (db.prepare("SELECT customer_id AS id FROM invoices LIMIT 1").get() as { id: number }).id;
    expect(codeOf(() => apply({ kind: "delete", table: "customers", key: withInvoices }))).toBe("CONFLICT");
    expect(codeOf(() => apply({ kind: "insert", table: "invoice_lines", values: { invoice_id: 999_999, product_id: 1, quantity: 1, unit_price_cents: 1, line_total_cents: 1 } }))).toBe("CONFLICT");
    expect(dump()).toBe(before);
  });

  it("creates tables and adds columns", () => {
    apply({ kind: "createTable", table: "visits", columns: [
      { name: "id", type: "INTEGER", primaryKey: true }, { name: "place", type: "TEXT", notNull: true }, { name: "score", type: "REAL" },
    ] });
    expect(tableInfo(db, "visits")).toMatchObject({ primaryKey: "id", columns: [
      { name: "id", type: "INTEGER", primaryKey: true, notNull: false },
      { name: "place", type: "TEXT", primaryKey: false, notNull: true },
      { name: "score", type: "REAL", primaryKey: false, notNull: false },
    ] });
    // A NOT NULL column can join a table while it is empty.
    apply({ kind: "addColumn", table: "visits", column: { name: "visited_on", type: "TEXT", notNull: true } });
    expect(apply({ kind: "insert", table: "visits", values: { place: "Lyon", visited_on: "2026-02-02" } })).toMatchObject({ key: 1 });
    apply({ kind: "addColumn", table: "visits", column: { name: "remark", type: "TEXT" } });
    apply({ kind: "createTable", table: "links", columns: [{ name: "a", type: "INTEGER", primaryKey: true }, { name: "b", type: "INTEGER", primaryKey: true }] });
    expect(tableInfo(db, "links")).toMatchObject({ primaryKey: "rowid" });
  });

  it("refuses schema changes that cannot be made, changing nothing", () => {
    const before = dump();
    const col = { name: "c", type: "TEXT" } as const;
    expect(codeOf(() => apply({ kind: "createTable", table: "customers", columns: [col] }))).toBe("CONFLICT");
    expect(codeOf(() => apply({ kind: "createTable", table: "CUSTOMERS", columns: [col] }))).toBe("CONFLICT");
    expect(codeOf(() => apply({ kind: "createTable", table: "invoices_customer", columns: [col] }))).toBe("CONFLICT"); // an index's name
    expect(codeOf(() => apply({ kind: "createTable", table: "t2", columns: [col, { name: "C", type: "INTEGER" }] }))).toBe("BAD_REQUEST");
    expect(codeOf(() => apply({ kind: "addColumn", table: "customers", column: { name: "City", type: "TEXT" } }))).toBe("CONFLICT");
    expect(codeOf(() => apply({ kind: "addColumn", table: "customers", column: { name: "pk2", type: "INTEGER", primaryKey: true } }))).toBe("BAD_REQUEST");
    expect(codeOf(() => apply({ kind: "addColumn", table: "customers", column: { name: "required", type: "TEXT", notNull: true } }))).toBe("BAD_REQUEST");
    expect(codeOf(() => apply({ kind: "createTable", table: "t3", columns: [{ name: "c", type: "VARCHAR(10); DROP TABLE x" as "TEXT" }] }))).toBe("BAD_REQUEST");
    expect(dump()).toBe(before);
  });

  it("applies a batch in order and returns each operation as applied", () => {
    const applied = apply({ kind: "batch", ops: [
      { kind: "createTable", table: "rooms", columns: [{ name: "id", type: "INTEGER", primaryKey: true }, { name: "label", type: "TEXT" }] },
      { kind: "insert", table: "rooms", values: { label: "A" } },
      { kind: "insert", table: "rooms", values: { label: "B" } },
      { kind: "update", table: "rooms", key: 1, values: { label: "A1" } },
    ] });
    expect(applied).toMatchObject({ kind: "batch", ops: [{ kind: "createTable" }, { key: 1 }, { key: 2 }, { kind: "update" }] });
    expect(db.prepare("SELECT * FROM rooms").all()).toEqual([{ id: 1, label: "A1" }, { id: 2, label: "B" }]);
  });

  it("says which operation of a batch failed; the caller's rollback leaves nothing applied", () => {
    const before = dump();
    let message = "";
    try {
      apply({ kind: "batch", ops: [
        { kind: "update", table: "customers", key: 1, values: { city: "Applied first" } },
        { kind: "delete", table: "customers", key: 99_999 },
      ] });
    } catch (err) {
      message = (err as Error).message;
      expect(isDomainError(err) && err.code).toBe("NOT_FOUND");
    }
    expect(message).toMatch(/^Operation 2 of the batch/);
    expect(dump()).toBe(before);
  });

  it("never reads or writes Strongbox's or SQLite's own tables", () => {
    const before = dump();
    for (const table of ["strongbox_bookkeeping", "STRONGBOX_BOOKKEEPING", "sqlite_master", "sqlite_schema", "sqlite_sequence"]) {
      expect(codeOf(() => tableInfo(db, table))).toBe("BAD_REQUEST");
      expect(codeOf(() => apply({ kind: "update", table, key: "last_operation", values: { value: "999" } }))).toBe("BAD_REQUEST");
      expect(codeOf(() => apply({ kind: "delete", table, key: "database_id" }))).toBe("BAD_REQUEST");
      expect(codeOf(() => apply({ kind: "createTable", table, columns: [{ name: "a", type: "TEXT" }] }))).toBe("BAD_REQUEST");
    }
    expect(listTables(db)).toEqual(["customers", "invoice_lines", "invoices", "notes", "pairs", "products", "tags", "x"]);
    expect(dump()).toBe(before);
  });

  it("refuses names that try to inject SQL, and changes nothing", () => {
    const evil = [
      "t; DROP TABLE x", "x; DROP TABLE x; --", "\"a\" OR 1=1", "a\" OR \"1\"=\"1", "customers\"; DROP TABLE x; --", "x'--", "x\"", "`x`", "[x]",
      "customers WHERE 1=1", "customers--", "cust/**/omers", "odd name", "custоmers" /* Cyrillic о */, "ｃustomers" /* fullwidth */,
      "customers\u200b" /* zero-width space */, "customers\u0000", "", " customers", "customers ", "1x", "a".repeat(64), "é",
    ];
    const before = dump();
    for (const name of evil) {
      const refusedAsTable = [
        () => apply({ kind: "insert", table: name, values: { id: 1 } }),
        () => apply({ kind: "update", table: name, key: 1, values: { id: 2 } }),
        () => apply({ kind: "delete", table: name, key: 1 }),
        () => apply({ kind: "createTable", table: name, columns: [{ name: "a", type: "TEXT" }] }),
        () => apply({ kind: "addColumn", table: name, column: { name: "a", type: "TEXT" } }),
        () => tableInfo(db, name),
      ];
      const refusedAsColumn = [
        () => apply({ kind: "insert", table: "customers", values: { [name]: 1 } }),
        () => apply({ kind: "update", table: "customers", key: 1, values: { [name]: 1 } }),
        () => apply({ kind: "createTable", table: "fresh", columns: [{ name, type: "TEXT" }] }),
        () => apply({ kind: "addColumn", table: "customers", column: { name, type: "TEXT" } }),
      ];
      for (const attempt of [...refusedAsTable, ...refusedAsColumn]) {
        expect(codeOf(attempt), `name ${JSON.stringify(name)}`).toBe("BAD_REQUEST");
      }
    }
    // Values are bound, never spliced: SQL in a value is stored as text.
    apply({ kind: "update", table: "customers", key: 1, values: { notes: "'); DROP TABLE x; --" } });
    expect(customer(1)?.notes).toBe("'); DROP TABLE x; --");
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'x'").get()).toEqual({ n: 1 });
    const after = JSON.parse(dump()) as { tables: unknown[] };
    expect(after.tables.length).toBe((JSON.parse(before) as { tables: unknown[] }).tables.length);
  });
});
