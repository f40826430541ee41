// The last attempt of each kind of operation on a database (a backup, a restore…), kept in console.sqlite. The
// history lives in the destination, so when it can't be written (the destination disappeared during the backup)
// or is another one (the destination changed), the Backup page and BACKUP INFO still show the last attempt, also
// after a restart. One small row per kind: the history entry without its list of files.
import type { ConsoleDb } from "../console/console-db";
import type { HistoryEntry } from "../history/backup-history";

export class LastAttempts {
  constructor(private readonly db: ConsoleDb, private readonly databaseDir: string) {}

  record(entry: HistoryEntry): void {
    this.db.prepare(`INSERT INTO last_attempts (database_dir, kind, entry) VALUES (?, ?, ?)
      ON CONFLICT(database_dir, kind) DO UPDATE SET entry = excluded.entry`)
      .run(this.databaseDir, entry.operation, JSON.stringify({ ...entry, files: [] }));
  }

  last(kind: HistoryEntry["operation"] = "backup"): HistoryEntry | null {
    const row = this.db.prepare("SELECT entry FROM last_attempts WHERE database_dir = ? AND kind = ?").get(this.databaseDir, kind) as { entry: string } | undefined;
    if (!row) return null;
    try {
      return JSON.parse(row.entry) as HistoryEntry;
    } catch {
      return null; // a row this version can't read is only a lost fallback
    }
  }
}
