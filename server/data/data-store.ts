// The data API's access to the data file (docs/log-file.md): reads on their own connection, which never wait for a lock;
// writes through the data write lock, committed in groups (group-commit.ts): the writes that arrive while one group
// is flushed form the next one, applied in arrival order in one transaction that bumps the last operation number
// and appends their log records (one flush) before it commits.
import Database from "better-sqlite3";
import fs from "node:fs";
import { bindValue, columnOf, DataError, keyExpr, listTables, quote, tableInfo, type ColumnInfo, type TableInfo } from "./apply-write";
import { BOOKKEEPING_TABLE, ensureBookkeeping, readLastOperation } from "./bookkeeping";
import { GroupCommit, type WriteLog } from "./group-commit";
import { MAX_VALUE_BYTES, oversizedValue, valueSchema, writeSchema, type Value, type Write } from "./write-ops";
import type { BackupLocks } from "../locks/backup-locks";

export type { WriteLog } from "./group-commit";

export interface DataStoreOptions {
  dataFile: string;
  locks: BackupLocks;
  /** null when the log file is off (Advanced/UseLog false): operation numbers still go on. */
  log: WriteLog | null;
  now?: () => Date;
}

export interface TableSummary {
  name: string;
  rowCount: number;
  /** The key column's name, or "rowid" for a table without a single-column primary key. */
  primaryKey: string;
  columns: ColumnInfo[];
}

export const FILTER_OPS = ["eq", "contains", "lt", "gt"] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

export interface ReadRowsOptions {
  offset: number;
  limit: number;
  filter?: { column: string; op: FilterOp; value: Value };
  orderBy?: { column: string; direction: "asc" | "desc" };
}

export type Row = Record<string, Value>;

export interface RowsPage {
  table: string;
  primaryKey: string;
  columns: ColumnInfo[];
  /** Each row holds its key column; for a rowid table, also `rowid`. */
  rows: Row[];
  /**
   * The cells cut to MAX_LISTED_CHARS in `rows` (their text ends with a "… [N characters in all]" marker): by row
   * index in `rows` and column, with their whole length in characters. `readCell` gives the whole value.
   */
  truncated: Array<{ row: number; column: string; chars: number }>;
  /** Rows matching the filter, over all pages. */
  total: number;
  offset: number;
  limit: number;
}

/** At most this many rows per page: a page is read into memory and sent in one answer. */
export const MAX_PAGE_ROWS = 500;
/**
 * A text longer than this is cut in a page of rows (a page of 500 rows must stay small whatever the cells hold); the
 * whole value comes from `readCell`. SQLite cuts it, so a long value is never read whole into memory for a page.
 */
export const MAX_LISTED_CHARS = 4_096;

export interface WriteContext {
  /** Recorded in the log: the user's name, or the API token's. */
  user: string | null;
  signal?: AbortSignal;
  noWait?: boolean;
  requestId?: string;
}

export interface WriteResult {
  operation: number;
  applied: Write;
}

export class DataStore {
  private readonly dataFile: string;
  private readonly locks: BackupLocks;
  /** Opened on first use, so that a server whose database has no data file yet still starts. */
  private dbs: { write: Database.Database; read: Database.Database } | null = null;
  /** Applies, logs and commits the writes, in arrival order, a group at a time. */
  private readonly group: GroupCommit;
  private closed = false;
  /** Set while a restore in place swaps the data file (releaseFile … resumeFile). */
  private swapping = false;

  constructor(opts: DataStoreOptions) {
    this.dataFile = opts.dataFile;
    this.locks = opts.locks;
    const now = opts.now ?? (() => new Date());
    this.group = new GroupCommit({ db: () => this.writeDb, log: opts.log, now, checkOpen: () => this.checkOpen() });
  }

  /** Groups committed and the writes they held since the store was made (flushes of the log vs writes). */
  get commitStats(): { groups: number; writes: number } {
    return { ...this.group.stats };
  }

  private get writeDb(): Database.Database {
    return this.open().write;
  }

  private get readDb(): Database.Database {
    return this.open().read;
  }

  private open(): { write: Database.Database; read: Database.Database } {
    this.checkOpen();
    if (this.dbs) return this.dbs;
    if (this.swapping) throw new DataError("CONFLICT", "The data file is being replaced by a restore. Try again in a moment.");
    if (!fs.existsSync(this.dataFile)) {
      throw new DataError("NOT_FOUND", `The database has no data file: ${this.dataFile} does not exist. Restore one or create it, then reload.`);
    }
    ensureBookkeeping(this.dataFile);
    const write = new Database(this.dataFile, { fileMustExist: true });
    try {
      write.pragma("journal_mode = WAL");
      // Another program may write to the data file directly: wait for its transaction rather than fail at once.
      // No busy wait inside SQLite for this connection: beginImmediate() waits in the event loop instead.
      write.pragma("busy_timeout = 0");
      // Read-only, so no read can change anything; in WAL mode it reads the last commit without waiting for writers.
      const read = new Database(this.dataFile, { fileMustExist: true, readonly: true });
      read.pragma("busy_timeout = 5000");
      this.dbs = { write, read };
      return this.dbs;
    } catch (err) {
      write.close();
      throw err;
    }
  }

  /** The database's id, from the data file's bookkeeping. */
  databaseId(): string {
    const row = this.readDb.prepare(`SELECT value FROM ${BOOKKEEPING_TABLE} WHERE key = 'database_id'`).get() as { value: string } | undefined;
    return row?.value ?? "";
  }

  /** The number of the last operation committed to the data file. */
  lastOperation(): number {
    return readLastOperation(this.readDb);
  }

  listTables(): TableSummary[] {
    const db = this.readDb;
    return listTables(db).map((name) => {
      const t = tableInfo(db, name);
      const { n } = db.prepare(`SELECT count(*) AS n FROM ${quote(t.name)}`).get() as { n: number };
      return { name: t.name, rowCount: n, primaryKey: t.primaryKey, columns: t.columns };
    });
  }

  readRows(table: string, opts: ReadRowsOptions): RowsPage {
    const { offset, limit } = opts;
    if (!Number.isSafeInteger(offset) || offset < 0) throw new DataError("BAD_REQUEST", `The offset must be a whole number of 0 or more, not ${offset}.`);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_ROWS) {
      throw new DataError("BAD_REQUEST", `The page size must be a whole number from 1 to ${MAX_PAGE_ROWS}, not ${limit}.`);
    }
    const db = this.readDb;
    const t = tableInfo(db, table);
    const params: Array<string | number | null> = [];
    let where = "";
    if (opts.filter) {
      const { sql, value } = filterSql(t, opts.filter);
      where = ` WHERE ${sql}`;
      params.push(value);
    }
    let order = `ORDER BY ${keyExpr(t)}`;
    if (opts.orderBy) {
      if (opts.orderBy.direction !== "asc" && opts.orderBy.direction !== "desc") {
        throw new DataError("BAD_REQUEST", `The sort direction must be "asc" or "desc", not ${JSON.stringify(opts.orderBy.direction)}.`);
      }
      // The key breaks ties, so that paging through equal values neither repeats nor skips rows.
      order = `ORDER BY ${columnSql(t, opts.orderBy.column)} ${opts.orderBy.direction.toUpperCase()}, ${keyExpr(t)}`;
    }
    const from = `FROM ${quote(t.name)}${where}`;
    // Per column three values: the cell (a long text cut, a BLOB left out), its type and its length. Read as arrays
    // (raw), so that these extra values need no names that could clash with a column's.
    const cells = t.columns.map((c) => {
      const q = quote(c.name);
      const cut = c.name === t.primaryKey ? q
        : `CASE WHEN typeof(${q}) = 'text' AND length(${q}) > ${MAX_LISTED_CHARS} THEN substr(${q}, 1, ${MAX_LISTED_CHARS}) WHEN typeof(${q}) = 'blob' THEN NULL ELSE ${q} END`;
      return `${cut}, typeof(${q}), length(${q})`;
    });
    const select = `SELECT ${t.keyIsRowid ? `${t.primaryKey}, ` : ""}${cells.join(", ")}`;
    // One read transaction for the page and its count, so both see the same commit.
    const page = db.transaction(() => ({
      rows: db.prepare(`${select} ${from} ${order} LIMIT ? OFFSET ?`).raw(true).all(...params, limit, offset) as unknown[][],
      total: (db.prepare(`SELECT count(*) AS n ${from}`).get(...params) as { n: number }).n,
    }))();
    const truncated: RowsPage["truncated"] = [];
    const rows = page.rows.map((r, index) => {
      const row: Row = {};
      let at = 0;
      if (t.keyIsRowid) row[t.primaryKey] = toValue(r[at++]);
      for (const c of t.columns) {
        const [value, type, length] = [r[at], r[at + 1], Number(r[at + 2])];
        at += 3;
        if (type === "blob") row[c.name] = `[BLOB, ${length} bytes]`;
        else if (type === "text" && length > MAX_LISTED_CHARS && c.name !== t.primaryKey) {
          row[c.name] = `${String(value)}… [${length} characters in all]`;
          truncated.push({ row: index, column: c.name, chars: length });
        } else row[c.name] = toValue(value);
      }
      return row;
    });
    return { table: t.name, primaryKey: t.primaryKey, columns: t.columns, rows, truncated, total: page.total, offset, limit };
  }

  /**
   * One cell's whole value (a page of rows cuts long texts), up to MAX_VALUE_BYTES: a larger one (written before
   * the limit, or by another program) is refused rather than sent.
   */
  readCell(table: string, key: Value, column: string): { value: Value } {
    const db = this.readDb;
    const t = tableInfo(db, table);
    const col = columnSql(t, column);
    const info = db.prepare(`SELECT typeof(${col}) AS type, length(CAST(${col} AS BLOB)) AS bytes FROM ${quote(t.name)} WHERE ${keyExpr(t)} = ?`)
      .get(bindValue(key)) as { type: string; bytes: number | null } | undefined;
    if (!info) throw new DataError("NOT_FOUND", `There is no longer a row of "${t.name}" with ${t.primaryKey} = ${JSON.stringify(key)}: it may have been deleted meanwhile. Reload the rows.`);
    if (info.type === "blob") return { value: `[BLOB, ${info.bytes} bytes]` };
    if ((info.bytes ?? 0) > MAX_VALUE_BYTES) {
      throw new DataError("BAD_REQUEST", `The value of ${t.name}.${column} in row ${JSON.stringify(key)} has ${info.bytes} bytes, more than the ` +
        `${MAX_VALUE_BYTES} bytes the data API sends. Read it with SQLite directly on the server.`);
    }
    const row = db.prepare(`SELECT ${col} AS v FROM ${quote(t.name)} WHERE ${keyExpr(t)} = ?`).get(bindValue(key)) as { v: unknown } | undefined;
    return { value: toValue(row?.v ?? null) };
  }

  /**
   * Applies one write (or an atomic batch) and logs it under the next operation number. Waits while the data
   * write lock is held (in arrival order) unless `noWait`; a cancelled or refused wait gets -9976 and changes
   * nothing. Resolves once the write is committed and its log record is on disk (with the other writes of its
   * group: see group-commit.ts).
   */
  async write(write: Write, ctx: WriteContext): Promise<WriteResult> {
    const parsed = writeSchema.safeParse(write);
    if (!parsed.success) {
      // Refused before it waits: a malformed write should not sit through a backup to be refused afterwards.
      const issue = parsed.error.issues[0];
      throw new DataError("BAD_REQUEST", `The write is not valid${issue?.path.length ? ` at ${issue.path.join(".")}` : ""}: ${issue?.message ?? "malformed"}`);
    }
    const big = oversizedValue(parsed.data);
    if (big) {
      throw new DataError("BAD_REQUEST", `The value for ${big.table}.${big.column} has ${big.bytes} bytes; the data API takes at most ` +
        `${MAX_VALUE_BYTES} bytes (1 MB) per value. Nothing was written. Keep large content in files (attachments) and store its path.`);
    }
    this.checkOpen();
    // The write holds its place under the data write lock until it is committed, so a backup taking the lock waits
    // for it; writes released together after a backup go into one group (`together`), in their arrival order.
    return this.locks.runWrite("data", () => this.group.submit(parsed.data, ctx.user), {
      signal: ctx.signal, noWait: ctx.noWait, requestId: ctx.requestId, together: true,
    });
  }

  /**
   * Lets go of the data file without closing the store (a restore in place swaps the file): the caller holds the
   * data write lock, so no write runs or starts; the next read or write opens the new file.
   */
  async releaseFile(): Promise<void> {
    await this.group.idle();
    // Until resumeFile(), nothing may open the file: a read in between would open the old file, which the swap then
    // moves aside with the connection still on it, and later writes would go there.
    this.swapping = true;
    this.dbs?.read.close();
    this.dbs?.write.close();
    this.dbs = null;
  }

  /** The swap is over (done or undone): the next read or write opens whatever file is now in place. */
  resumeFile(): void {
    this.swapping = false;
  }

  /** Closes both connections once the running write has ended; later writes are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.group.idle();
    this.dbs?.read.close();
    this.dbs?.write.close();
    this.dbs = null;
  }

  private checkOpen(): void {
    if (this.closed) throw new DataError("SERVICE_UNAVAILABLE", "The data file is closed because the server is shutting down: nothing was changed. Try again once it has restarted.");
  }
}

function columnSql(t: TableInfo, column: string): string {
  const name = columnOf(t, column, true);
  return t.keyIsRowid && name === t.primaryKey ? name : quote(name);
}

function filterSql(t: TableInfo, f: NonNullable<ReadRowsOptions["filter"]>): { sql: string; value: string | number | null } {
  const col = columnSql(t, f.column);
  const parsed = valueSchema.safeParse(f.value);
  if (!parsed.success) throw new DataError("BAD_REQUEST", `The filter value must be a text, a number, true, false or null.`);
  const value = bindValue(parsed.data);
  switch (f.op) {
    // IS rather than =, so that filtering on null finds the empty cells.
    case "eq": return { sql: `${col} IS ?`, value };
    case "contains":
      if (value === null) throw new DataError("BAD_REQUEST", `"contains" needs a text to look for.`);
      return { sql: `CAST(${col} AS TEXT) LIKE ? ESCAPE '\\'`, value: `%${String(value).replace(/[\\%_]/g, (c) => `\\${c}`)}%` };
    case "lt":
    case "gt":
      if (value === null) throw new DataError("BAD_REQUEST", `"${f.op === "lt" ? "less than" : "greater than"}" needs a value to compare with.`);
      return { sql: `${col} ${f.op === "lt" ? "<" : ">"} ?`, value };
    default:
      throw new DataError("BAD_REQUEST", `The filter operator must be one of ${FILTER_OPS.join(", ")}, not ${JSON.stringify(f.op)}.`);
  }
}

/** A cell as the API sends it (BLOBs are not readable through the API: shown by their size). */
function toValue(v: unknown): Value {
  if (Buffer.isBuffer(v)) return `[BLOB, ${v.length} bytes]`;
  if (typeof v === "bigint") return Number(v);
  return v as Value;
}
