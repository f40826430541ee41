// The last attempt of each kind of operation on a database (a backup, a restore…), kept in console.sqlite, and the
// last backup that committed an archive. The history lives in the destination, so when it can't be written (the
// destination disappeared during the backup) or is another one (the destination changed, or was lost), the Backup
// page and BACKUP INFO still show them, also after a restart, with the history they were written to. One small row
// per kind: the history entry without its list of files, and where its history is.
import type { ConsoleDb } from "../console/console-db";
import { isCommittedBackup, type HistoryEntry } from "../history/backup-history";

/** A remembered entry and the backupHistory.json it was written to (null: unknown, or none could be resolved). */
export type RememberedEntry = HistoryEntry & { historyPath: string | null };

/** The row of the last backup that committed an archive (a kind no operation has). */
const COMMITTED = "backup:committed";

export class LastAttempts {
  constructor(private readonly db: ConsoleDb, private readonly databaseDir: string) {}

  record(entry: HistoryEntry, historyPath: string | null = null): void {
    const upsert = this.db.prepare(`INSERT INTO last_attempts (database_dir, kind, entry) VALUES (?, ?, ?)
      ON CONFLICT(database_dir, kind) DO UPDATE SET entry = excluded.entry`);
    const row = JSON.stringify({ ...entry, files: [], historyPath });
    upsert.run(this.databaseDir, entry.operation, row);
    if (isCommittedBackup(entry)) upsert.run(this.databaseDir, COMMITTED, row);
  }

  last(kind: HistoryEntry["operation"] = "backup"): RememberedEntry | null {
    return this.read(kind);
  }

  /** The last backup that committed an archive (a success or a partial backup). */
  lastCommitted(): RememberedEntry | null {
    return this.read(COMMITTED);
  }

  private read(kind: string): RememberedEntry | null {
    const row = this.db.prepare("SELECT entry FROM last_attempts WHERE database_dir = ? AND kind = ?").get(this.databaseDir, kind) as { entry: string } | undefined;
    if (!row) return null;
    try {
      const entry = JSON.parse(row.entry) as RememberedEntry;
      return { ...entry, historyPath: entry.historyPath ?? null };
    } catch {
      return null; // a row this version can't read is only a lost fallback
    }
  }
}
