// Applies one write of the data API (docs/log-file.md) to the data file, inside the caller's transaction, and returns it as
// applied (an insert gets its key), so that the log file can record it and a replay repeats it exactly.
// SQL is built only from names that pass identifierSchema AND exist in the schema, always double-quoted, with
// every value bound as a parameter: nothing a client sends is ever spliced into SQL text.
import type Database from "better-sqlite3";
import { DomainError } from "../errors";
import { COLUMN_TYPES, identifierSchema, writeSchema, type ColumnDef, type Value, type Write, type WriteOp } from "./write-ops";

export type DataErrorCode = "NOT_FOUND" | "BAD_REQUEST" | "CONFLICT" | "SERVICE_UNAVAILABLE";

/** A write or read the data file refuses: what was wrong, with what, and what to do. Nothing was changed. */
export class DataError extends DomainError {
  declare readonly code: DataErrorCode;
  constructor(code: DataErrorCode, message: string, options?: { cause?: unknown }) {
    super(null, message, { code, cause: options?.cause });
    this.name = "DataError";
  }
}

export interface ColumnInfo {
  name: string;
  /** The declared type ("" when none was declared). */
  type: string;
  primaryKey: boolean;
  notNull: boolean;
}

export interface TableInfo {
  /** The name as the schema spells it (SQLite names are case-insensitive). */
  name: string;
  /** What addresses a row: the single primary key column, else "rowid" (or another rowid alias, see below). */
  primaryKey: string;
  /** True when rows are addressed by the rowid rather than by a column. */
  keyIsRowid: boolean;
  columns: ColumnInfo[];
  /** Generated columns: readable, never written. */
  generated: string[];
}

const RESERVED = /^(sqlite_|strongbox_)/i;
/** The rowid's names; a table may have a column that takes one of them, then the next one addresses the rowid. */
const ROWID_ALIASES = ["rowid", "_rowid_", "oid"] as const;

/** Always double-quoted; names reaching here already passed identifierSchema, so the escaping is belt and braces. */
export const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function checkName(what: "table" | "column", name: unknown): string {
  const parsed = identifierSchema.safeParse(name);
  if (!parsed.success) {
    throw new DataError("BAD_REQUEST", `The ${what} name ${JSON.stringify(name)} is not accepted: ${parsed.error.issues[0]?.message ?? "invalid name"}`);
  }
  return parsed.data;
}

interface TableRow { name: string; wr: number }

/** The data file's own tables that the API can address, by name (Strongbox's and SQLite's own tables excluded). */
export function listTables(db: Database.Database): string[] {
  const rows = db.prepare("SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' ORDER BY name").all() as TableRow[];
  const names: string[] = [];
  for (const r of rows) {
    if (!identifierSchema.safeParse(r.name).success) continue; // reserved, or a name the API cannot take as input
    if (describe(db, r).primaryKey === "") continue; // no single key and no rowid: rows cannot be addressed
    names.push(r.name);
  }
  return names;
}

/** The table's columns and key; DataError when the name is not valid, reserved, or not a table of the data file. */
export function tableInfo(db: Database.Database, table: string): TableInfo {
  const name = checkName("table", table);
  const row = db.prepare("SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name = ? COLLATE NOCASE")
    .get(name) as TableRow | undefined;
  if (!row || RESERVED.test(row.name)) {
    throw new DataError("NOT_FOUND", `There is no table "${name}" in the data file. Reload the list of tables.`);
  }
  const info = describe(db, row);
  if (info.primaryKey === "") {
    throw new DataError("BAD_REQUEST", `Rows of the table "${row.name}" cannot be addressed: it has neither a single-column primary key nor a rowid.`);
  }
  return info;
}

interface XInfoRow { name: string; type: string; notnull: number; pk: number; hidden: number }

function describe(db: Database.Database, row: TableRow): TableInfo {
  // table_xinfo lists generated columns too (hidden 2 and 3), as SELECT * returns them; hidden 1 is a virtual
  // table's hidden column, which SELECT * does not return.
  const cols = (db.prepare("SELECT name, type, \"notnull\", pk, hidden FROM pragma_table_xinfo(?)").all(row.name) as XInfoRow[])
    .filter((c) => c.hidden !== 1);
  const pkCols = cols.filter((c) => c.pk > 0);
  let primaryKey = "";
  let keyIsRowid = false;
  if (pkCols.length === 1) primaryKey = pkCols[0].name;
  else if (!row.wr) {
    const alias = ROWID_ALIASES.find((a) => !cols.some((c) => sameName(c.name, a)));
    if (alias) { primaryKey = alias; keyIsRowid = true; }
  }
  return {
    name: row.name,
    primaryKey,
    keyIsRowid,
    columns: cols.map((c) => ({ name: c.name, type: c.type, primaryKey: c.pk > 0, notNull: c.notnull === 1 })),
    generated: cols.filter((c) => c.hidden === 2 || c.hidden === 3).map((c) => c.name),
  };
}

/** The SQL that names a table's key: the quoted key column, or the bare rowid alias (a keyword, not a column). */
export const keyExpr = (t: TableInfo) => (t.keyIsRowid ? t.primaryKey : quote(t.primaryKey));

/** A column of `t` by its name in any case, as the schema spells it (also the key's rowid alias when `withKey`). */
export function columnOf(t: TableInfo, column: unknown, withKey = false): string {
  const name = checkName("column", column);
  if (withKey && t.keyIsRowid && sameName(name, t.primaryKey)) return t.primaryKey;
  const col = t.columns.find((c) => sameName(c.name, name));
  if (!col) throw new DataError("BAD_REQUEST", `The table "${t.name}" has no column "${name}". Reload the table to see its columns.`);
  return col.name;
}

/** A value as SQLite binds it: booleans become 1 and 0. */
export const bindValue = (v: Value): string | number | null => (typeof v === "boolean" ? (v ? 1 : 0) : v);

function writableColumns(t: TableInfo, values: Record<string, Value>): Array<[string, Value]> {
  const out: Array<[string, Value]> = [];
  for (const [key, value] of Object.entries(values)) {
    const col = columnOf(t, key);
    if (out.some(([c]) => c === col)) throw new DataError("BAD_REQUEST", `The column "${col}" of "${t.name}" is given twice (names are case-insensitive).`);
    if (t.generated.includes(col)) throw new DataError("BAD_REQUEST", `The column "${col}" of "${t.name}" is generated by the database and cannot be written.`);
    out.push([col, value]);
  }
  return out;
}

const describeKey = (t: TableInfo, key: Value) => `the row of "${t.name}" with ${t.primaryKey} = ${JSON.stringify(key)}`;

function asKey(t: TableInfo, v: unknown): Value {
  if (v === null || typeof v === "string" || (typeof v === "number" && Number.isFinite(v))) return v;
  if (typeof v === "bigint" && Number.isSafeInteger(Number(v))) return Number(v);
  throw new DataError("BAD_REQUEST", `The key of the new row of "${t.name}" (${t.primaryKey}) is not a text or a number, so the data API cannot address it.`);
}

/**
 * SQLite's refusals of what a client sent become DataErrors; anything else (I/O, busy…) is returned as it is.
 * Foreign keys count: better-sqlite3 turns them on for every connection (SQLITE_DEFAULT_FOREIGN_KEYS=1).
 */
export function refusal(err: unknown, what: string): unknown {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== "string" || !(err instanceof Error)) return err;
  if (code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
    return new DataError("CONFLICT", `${what} was refused: ${err.message}. Another row already has this value.`, { cause: err });
  }
  if (code === "SQLITE_CONSTRAINT_FOREIGNKEY") {
    return new DataError("CONFLICT", `${what} was refused: ${err.message}. Other rows refer to this one, or it refers to a row that does not exist.`, { cause: err });
  }
  if (code.startsWith("SQLITE_CONSTRAINT") || code === "SQLITE_MISMATCH" || code === "SQLITE_TOOBIG" || code === "SQLITE_RANGE") {
    return new DataError("BAD_REQUEST", `${what} was refused: ${err.message}. Correct the values and try again.`, { cause: err });
  }
  return err;
}

function run<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw refusal(err, what);
  }
}

function insert(db: Database.Database, op: Extract<WriteOp, { kind: "insert" }>): WriteOp {
  const t = tableInfo(db, op.table);
  const cols = writableColumns(t, op.values);
  // A replay (or a client that names the key): the row gets exactly the logged key. When the key column is among
  // the values, they decide the key, and the key given must be the one they produce.
  const keyGiven = op.key !== undefined && cols.some(([c]) => c === t.primaryKey);
  if (op.key !== undefined && !keyGiven) cols.push([t.primaryKey, op.key]);
  const names = cols.map(([c]) => (t.keyIsRowid && c === t.primaryKey ? c : quote(c)));
  const sql = cols.length === 0
    ? `INSERT INTO ${quote(t.name)} DEFAULT VALUES RETURNING ${keyExpr(t)} AS k`
    : `INSERT INTO ${quote(t.name)} (${names.join(", ")}) VALUES (${cols.map(() => "?").join(", ")}) RETURNING ${keyExpr(t)} AS k`;
  const row = run(`The new row of "${t.name}"`, () => db.prepare(sql).get(...cols.map(([, v]) => bindValue(v))) as { k: unknown });
  const key = asKey(t, row.k);
  if (keyGiven && String(key) !== String(bindValue(op.key!))) {
    throw new DataError("BAD_REQUEST", `The insert into "${t.name}" gives two different keys: ${t.primaryKey} = ${JSON.stringify(key)} from its values and key ${JSON.stringify(op.key)}.`);
  }
  if (key === null) {
    throw new DataError("BAD_REQUEST", `The new row of "${t.name}" needs a value for its primary key "${t.primaryKey}".`);
  }
  return { ...op, key };
}

function update(db: Database.Database, op: Extract<WriteOp, { kind: "update" }>): WriteOp {
  const t = tableInfo(db, op.table);
  const cols = writableColumns(t, op.values);
  if (cols.length === 0) throw new DataError("BAD_REQUEST", `The update of ${describeKey(t, op.key)} changes no column: give at least one value.`);
  const sql = `UPDATE ${quote(t.name)} SET ${cols.map(([c]) => `${quote(c)} = ?`).join(", ")} WHERE ${keyExpr(t)} = ?`;
  const result = run(`The update of ${describeKey(t, op.key)}`, () => db.prepare(sql).run(...cols.map(([, v]) => bindValue(v)), bindValue(op.key)));
  if (result.changes === 0) throw notFound(t, op.key);
  return op;
}

function remove(db: Database.Database, op: Extract<WriteOp, { kind: "delete" }>): WriteOp {
  const t = tableInfo(db, op.table);
  const result = run(`The deletion of ${describeKey(t, op.key)}`, () => db.prepare(`DELETE FROM ${quote(t.name)} WHERE ${keyExpr(t)} = ?`).run(bindValue(op.key)));
  if (result.changes === 0) throw notFound(t, op.key);
  return op;
}

const notFound = (t: TableInfo, key: Value) =>
  new DataError("NOT_FOUND", `There is no longer ${describeKey(t, key)}: it may have been deleted meanwhile. Reload the rows.`);

function columnSql(c: ColumnDef, inlinePk: boolean): string {
  // The type comes from a closed list; checked again here because it is spliced into the statement.
  if (!(COLUMN_TYPES as readonly string[]).includes(c.type)) throw new DataError("BAD_REQUEST", `The column type ${JSON.stringify(c.type)} is not one of ${COLUMN_TYPES.join(", ")}.`);
  return `${quote(checkName("column", c.name))} ${c.type}${inlinePk ? " PRIMARY KEY" : ""}${c.notNull ? " NOT NULL" : ""}`;
}

function nameTaken(db: Database.Database, name: string): string | null {
  const row = db.prepare("SELECT type, name FROM sqlite_master WHERE name = ? COLLATE NOCASE").get(name) as { type: string; name: string } | undefined;
  return row ? `${row.type} "${row.name}"` : null;
}

function createTable(db: Database.Database, op: Extract<WriteOp, { kind: "createTable" }>): WriteOp {
  const name = checkName("table", op.table);
  const taken = nameTaken(db, name);
  if (taken) throw new DataError("CONFLICT", `A table named "${name}" cannot be created: the data file already has a ${taken}.`);
  if (op.columns.length === 0) throw new DataError("BAD_REQUEST", `The table "${name}" needs at least one column.`);
  op.columns.forEach((c, i) => {
    const dup = op.columns.findIndex((d) => sameName(d.name, c.name));
    if (dup !== i) throw new DataError("BAD_REQUEST", `The table "${name}" names the column "${c.name}" twice (names are case-insensitive).`);
  });
  const pk = op.columns.filter((c) => c.primaryKey);
  const defs = op.columns.map((c) => columnSql(c, pk.length === 1 && c.primaryKey === true));
  if (pk.length > 1) defs.push(`PRIMARY KEY (${pk.map((c) => quote(c.name)).join(", ")})`);
  run(`Creating the table "${name}"`, () => db.exec(`CREATE TABLE ${quote(name)} (${defs.join(", ")})`));
  return op;
}

function addColumn(db: Database.Database, op: Extract<WriteOp, { kind: "addColumn" }>): WriteOp {
  const t = tableInfo(db, op.table);
  const name = checkName("column", op.column.name);
  const existing = t.columns.find((c) => sameName(c.name, name));
  if (existing) throw new DataError("CONFLICT", `The table "${t.name}" already has a column "${existing.name}".`);
  if (op.column.primaryKey) throw new DataError("BAD_REQUEST", `A primary key column cannot be added to the existing table "${t.name}"; create a new table instead.`);
  if (op.column.notNull && db.prepare(`SELECT 1 FROM ${quote(t.name)} LIMIT 1`).get()) {
    throw new DataError("BAD_REQUEST", `The column "${name}" cannot be NOT NULL: "${t.name}" already has rows, which would have no value for it. Add it without NOT NULL.`);
  }
  run(`Adding the column "${name}" to "${t.name}"`, () => db.exec(`ALTER TABLE ${quote(t.name)} ADD COLUMN ${columnSql(op.column, false)}`));
  return op;
}

function applyOp(db: Database.Database, op: WriteOp): WriteOp {
  switch (op.kind) {
    case "insert": return insert(db, op);
    case "update": return update(db, op);
    case "delete": return remove(db, op);
    case "createTable": return createTable(db, op);
    case "addColumn": return addColumn(db, op);
  }
}

/**
 * Applies `write` on `db` inside the caller's open transaction (a failure leaves the rollback to the caller, so a
 * batch is all or nothing) and returns it as applied: an insert carries its key — the primary key's value, or the
 * rowid — and an insert that already has a key (a replayed log record) gets exactly that key.
 */
export function applyWrite(db: Database.Database, write: Write): Write {
  const parsed = writeSchema.safeParse(write);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DataError("BAD_REQUEST", `The write is not valid${issue?.path.length ? ` at ${issue.path.join(".")}` : ""}: ${issue?.message ?? "malformed"}`);
  }
  const w = parsed.data;
  if (w.kind !== "batch") return applyOp(db, w);
  return {
    kind: "batch",
    ops: w.ops.map((op, i) => {
      try {
        return applyOp(db, op);
      } catch (err) {
        if (err instanceof DataError) throw new DataError(err.code, `Operation ${i + 1} of the batch (nothing was applied): ${err.message}`, { cause: err });
        throw err;
      }
    }),
  };
}
