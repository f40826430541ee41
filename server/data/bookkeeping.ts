// Strongbox's own bookkeeping inside the data file (spec §9): the database's id, made once, and the number of
// the last logged operation. The log file itself comes with the data API; until then the number stays 0.
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

/** Reads the values from an open connection (a snapshot, say); null when the table is absent. */
export function readBookkeeping(db: Database.Database): Bookkeeping | null {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(BOOKKEEPING_TABLE);
  if (!exists) return null;
  const rows = db.prepare(`SELECT key, value FROM ${BOOKKEEPING_TABLE}`).all() as Array<{ key: string; value: string }>;
  const map = new Map(rows.map((r) => [r.key, r.value]));
  return { databaseId: map.get("database_id") ?? "", lastOperation: Number(map.get("last_operation") ?? 0) };
}
