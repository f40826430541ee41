// The failure series of automatic backups (how many attempts failed in a row, and the retry waiting to run), kept
// in console.sqlite: a restart, a graceful stop cutting a scheduled backup included, neither forgets a pending
// retry nor starts the count of failed attempts again.
import type { ConsoleDb } from "../console/console-db";

export interface PendingRetry { at: Date; attempt: number; scheduledDate: Date | null; reason: string }
export interface FailureSeries { failures: number; retry: PendingRetry | null }

interface Raw { failures: number; retry_at: string | null; attempt: number | null; scheduled_date: string | null; reason: string | null }

export class FailureSeriesStore {
  constructor(private readonly db: ConsoleDb, private readonly databaseDir: string) {}

  load(): FailureSeries {
    const r = this.db.prepare("SELECT * FROM automation_series WHERE database_dir = ?").get(this.databaseDir) as Raw | undefined;
    if (!r) return { failures: 0, retry: null };
    const retry = r.retry_at && r.attempt != null
      ? { at: new Date(r.retry_at), attempt: r.attempt, scheduledDate: r.scheduled_date ? new Date(r.scheduled_date) : null, reason: r.reason ?? "" }
      : null;
    return { failures: r.failures, retry };
  }

  save(s: FailureSeries): void {
    this.db.prepare(`INSERT INTO automation_series (database_dir, failures, retry_at, attempt, scheduled_date, reason) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(database_dir) DO UPDATE SET failures = excluded.failures, retry_at = excluded.retry_at, attempt = excluded.attempt,
      scheduled_date = excluded.scheduled_date, reason = excluded.reason`)
      .run(this.databaseDir, s.failures, s.retry?.at.toISOString() ?? null, s.retry?.attempt ?? null, s.retry?.scheduledDate?.toISOString() ?? null, s.retry?.reason ?? null);
  }
}
