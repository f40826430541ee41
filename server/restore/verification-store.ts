// Archive verifications (issue 6, item 5): the last result per archive, and the schedule of automatic verification.
// Both belong to the console, not to the database (docs/settings.md), so they live in console.sqlite.
import type { ConsoleDb } from "../console/console-db";

export interface VerificationResult { at: string; ok: boolean; problems: string[] }

export const VERIFICATION_FREQUENCIES = ["Never", "Daily", "Weekly"] as const;
export interface VerificationSchedule {
  frequency: (typeof VERIFICATION_FREQUENCIES)[number];
  /** Server wall-clock hour, 0–23. */
  hour: number;
  /** 0 = Sunday … 6 = Saturday (Weekly only). */
  weekday: number;
}

export const DEFAULT_VERIFICATION_SCHEDULE: VerificationSchedule = { frequency: "Never", hour: 3, weekday: 0 };

export class VerificationStore {
  constructor(private readonly db: ConsoleDb) {}

  record(archivePath: string, result: VerificationResult): void {
    this.db.prepare(`INSERT INTO archive_verifications VALUES (?, ?, ?, ?) ON CONFLICT(archive_path) DO UPDATE SET at = excluded.at,
      ok = excluded.ok, problems = excluded.problems`).run(archivePath, result.at, result.ok ? 1 : 0, JSON.stringify(result.problems));
  }

  get(archivePath: string): VerificationResult | null {
    const row = this.db.prepare("SELECT at, ok, problems FROM archive_verifications WHERE archive_path = ?").get(archivePath) as
      | { at: string; ok: number; problems: string } | undefined;
    return row ? { at: row.at, ok: row.ok === 1, problems: JSON.parse(row.problems) as string[] } : null;
  }

  schedule(): VerificationSchedule & { lastRun: string | null } {
    const row = this.db.prepare("SELECT frequency, hour, weekday, last_run FROM verification_schedule WHERE id = 1").get() as
      | { frequency: VerificationSchedule["frequency"]; hour: number; weekday: number; last_run: string | null } | undefined;
    return row ? { frequency: row.frequency, hour: row.hour, weekday: row.weekday, lastRun: row.last_run } : { ...DEFAULT_VERIFICATION_SCHEDULE, lastRun: null };
  }

  /** Saving counts as a run: the first verification is the next scheduled time, not one already past. */
  setSchedule(s: VerificationSchedule, now: Date): void {
    this.db.prepare(`INSERT INTO verification_schedule (id, frequency, hour, weekday, last_run) VALUES (1, ?, ?, ?, ?)
      ON CONFLICT(id) DO UPDATE SET frequency = excluded.frequency, hour = excluded.hour, weekday = excluded.weekday, last_run = excluded.last_run`)
      .run(s.frequency, s.hour, s.weekday, now.toISOString());
  }

  markRun(at: Date): void {
    this.setLastRun(at.toISOString());
  }

  /** Puts back the last run as it was (a run that did not happen after all). */
  setLastRun(lastRun: string | null): void {
    const s = this.schedule();
    this.db.prepare(`INSERT INTO verification_schedule (id, frequency, hour, weekday, last_run) VALUES (1, ?, ?, ?, ?)
      ON CONFLICT(id) DO UPDATE SET last_run = excluded.last_run`).run(s.frequency, s.hour, s.weekday, lastRun);
  }
}

/**
 * The most recent time the schedule named at or before `now` (server wall clock, as Date's local methods read it),
 * or null when it never runs. A verification is due when that time is later than the last run: a late tick, or a
 * server that was down at the hour, still runs it once.
 */
export function lastScheduledTime(s: VerificationSchedule, now: Date): Date | null {
  if (s.frequency === "Never") return null;
  const t = new Date(now);
  t.setHours(s.hour, 0, 0, 0);
  if (s.frequency === "Daily") {
    if (t > now) t.setDate(t.getDate() - 1);
    return t;
  }
  const back = (t.getDay() - s.weekday + 7) % 7;
  t.setDate(t.getDate() - back);
  if (t > now) t.setDate(t.getDate() - 7);
  return t;
}

export function verificationDue(s: VerificationSchedule & { lastRun: string | null }, now: Date): boolean {
  const last = lastScheduledTime(s, now);
  if (!last) return false;
  return s.lastRun === null ? true : Date.parse(s.lastRun) < last.getTime();
}
