// Strongbox's own bookkeeping inside the data file (docs/log-file.md#bookkeeping): the database's id, made once, and the number of
// the last logged operation, which the data API sets in the same transaction as each write.
import Database from "better-sqlite3";
import crypto from "node:crypto";

export const BOOKKEEPING_TABLE = "strongbox_bookkeeping";

export interface Bookkeeping { databaseId: string; lastOperation: number }

/** Creates the table and the id when missing; returns the current values. */
export function ensureBookkeeping(dataFile: string): Bookkeeping {
  const db = new Database(dataFile, { fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    db.exec(`CREATE TABLE IF NOT EXISTS ${BOOKKEEPING_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    const insert = db.prepare(`INSERT OR IGNORE INTO ${BOOKKEEPING_TABLE} (key, value) VALUES (?, ?)`);
    db.transaction(() => {
      insert.run("database_id", crypto.randomUUID());
      insert.run("last_operation", "0");
    })();
    return readBookkeeping(db)!;
  } finally {
    db.close();
  }
}

/** A data file's bookkeeping (database id, last operation), or null for a file Strongbox never managed. */
export function bookkeepingOf(dataFile: string): Bookkeeping | null {
  const db = new Database(dataFile, { readonly: true, fileMustExist: true });
  try {
    return readBookkeeping(db);
  } finally {
    db.close();
  }
}

/** Gives a restored data file a new database id (a new log chain starts with it); returns its bookkeeping. */
export function setDatabaseId(dataFile: string, id: string): Bookkeeping {
  const db = new Database(dataFile, { fileMustExist: true });
  try {
    db.prepare(`UPDATE ${BOOKKEEPING_TABLE} SET value = ? WHERE key = 'database_id'`).run(id);
    return readBookkeeping(db)!;
  } finally {
    db.close();
  }
}

/** Reads the values from an open connection (a snapshot, say); null when the table is absent. */
export function readBookkeeping(db: Database.Database): Bookkeeping | null {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(BOOKKEEPING_TABLE);
  if (!exists) return null;
  const rows = db.prepare(`SELECT key, value FROM ${BOOKKEEPING_TABLE}`).all() as Array<{ key: string; value: string }>;
  const map = new Map(rows.map((r) => [r.key, r.value]));
  return { databaseId: map.get("database_id") ?? "", lastOperation: Number(map.get("last_operation") ?? 0) };
}

/** The number of the last operation applied to the data file (0 when none, or before the table exists). */
export function readLastOperation(db: Database.Database): number {
  return readBookkeeping(db)?.lastOperation ?? 0;
}

/** Sets the last operation number; called inside the write's own transaction so both commit or neither does. */
export function setLastOperation(db: Database.Database, op: number): void {
  if (!Number.isSafeInteger(op) || op < 0) throw new Error(`An operation number must be a whole number of 0 or more, not ${op}.`);
  db.prepare(`INSERT INTO ${BOOKKEEPING_TABLE} (key, value) VALUES ('last_operation', ?)
    ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(String(op));
}
