// "The data file has been modified" (docs/log-file.md, for BackupIfDataChange): any change since the last backup's snapshot,
// whoever made it — through the data API or directly — judged from the last operation number and the data file's
// and its WAL's size and modification time, recorded (in console.sqlite) when the snapshot was taken.
import fs from "node:fs";
import type { ConsoleDb } from "../console/console-db";

export interface DataFileMarks {
  size: number;
  mtimeMs: number;
  walSize: number;
  walMtimeMs: number;
  lastOperation: number;
}

/** The data file's marks now (a missing WAL counts as size 0). Taken just before a snapshot. */
export function currentMarks(dataFile: string, lastOperation: number): DataFileMarks {
  const st = fs.statSync(dataFile);
  const wal = fs.statSync(`${dataFile}-wal`, { throwIfNoEntry: false });
  return { size: st.size, mtimeMs: st.mtimeMs, walSize: wal?.size ?? 0, walMtimeMs: wal?.mtimeMs ?? 0, lastOperation };
}

export function recordSnapshotMarks(db: ConsoleDb, databaseDir: string, m: DataFileMarks): void {
  db.prepare(`INSERT INTO snapshot_marks VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(database_dir) DO UPDATE SET size = excluded.size,
    mtime_ms = excluded.mtime_ms, wal_size = excluded.wal_size, wal_mtime_ms = excluded.wal_mtime_ms, last_operation = excluded.last_operation`)
    .run(databaseDir, m.size, m.mtimeMs, m.walSize, m.walMtimeMs, m.lastOperation);
}

/** True when anything changed since the last committed backup's snapshot, or when there is none to compare with. */
export function dataFileModified(db: ConsoleDb, databaseDir: string, dataFile: string, lastOperation: number): boolean {
  const row = db.prepare("SELECT * FROM snapshot_marks WHERE database_dir = ?").get(databaseDir) as
    | { size: number; mtime_ms: number; wal_size: number; wal_mtime_ms: number; last_operation: number } | undefined;
  if (!row) return true;
  const now = currentMarks(dataFile, lastOperation);
  return now.size !== row.size || now.mtimeMs !== row.mtime_ms || now.walSize !== row.wal_size
    || now.walMtimeMs !== row.wal_mtime_ms || now.lastOperation !== row.last_operation;
}
