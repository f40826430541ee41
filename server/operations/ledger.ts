// The operations ledger in console.sqlite: a row is written when an operation starts and closed when it ends,
// so that the next start finds an operation that a crash (kill -9) interrupted, with its temporary files.
import type { ConsoleDb } from "../console/console-db";
import type { Trigger } from "../operation";

export interface LedgerRow {
  id: string;
  kind: string;
  backupNumber: number | null;
  trigger: Trigger;
  scheduledAt: Date | null;
  startedAt: Date;
  tempPaths: string[];
  archivePath: string | null;
  /** True when the history entry was written before the crash (only the journal block may be missing). */
  recorded?: boolean;
}

interface Raw {
  id: string; kind: string; backup_number: number | null; trigger_kind: Trigger["kind"]; trigger_user: string | null;
  scheduled_at: string | null; started_at: string; temp_paths: string; archive_path: string | null; state: string;
}

export class OperationLedger {
  constructor(private readonly db: ConsoleDb, private readonly databaseDir: string) {}

  begin(row: LedgerRow): void {
    this.db
      .prepare(`INSERT INTO operations (id, kind, state, database_dir, backup_number, trigger_kind, trigger_user,
        scheduled_at, started_at, temp_paths, archive_path) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(row.id, row.kind, this.databaseDir, row.backupNumber, row.trigger.kind, row.trigger.user,
        row.scheduledAt?.toISOString() ?? null, row.startedAt.toISOString(), JSON.stringify(row.tempPaths), row.archivePath);
  }

  /** The history entry is written: a crash from here on must not record the operation a second time. */
  markRecorded(id: string): void {
    this.db.prepare("UPDATE operations SET state = 'recorded' WHERE id = ?").run(id);
  }

  finish(id: string, status: number, endedAt: Date, state: "finished" | "recovered" = "finished"): void {
    this.db.prepare("UPDATE operations SET state = ?, status = ?, ended_at = ? WHERE id = ?").run(state, status, endedAt.toISOString(), id);
  }

  /** Operations of this database still marked running: only a crash leaves them so. */
  interrupted(): LedgerRow[] {
    const rows = this.db
      .prepare("SELECT * FROM operations WHERE state IN ('running', 'recorded') AND database_dir = ? ORDER BY started_at")
      .all(this.databaseDir) as Raw[];
    return rows.map((r) => ({
      id: r.id, kind: r.kind, backupNumber: r.backup_number,
      trigger: { kind: r.trigger_kind, user: r.trigger_user },
      scheduledAt: r.scheduled_at ? new Date(r.scheduled_at) : null, startedAt: new Date(r.started_at),
      tempPaths: JSON.parse(r.temp_paths) as string[], archivePath: r.archive_path, recorded: r.state === "recorded",
    }));
  }
}
