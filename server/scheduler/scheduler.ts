// The scheduler (docs/operations.md): node-cron only provides a heartbeat; what is due is decided by nextRun (./next-run.ts)
// against the clock. node-cron skips the times a DST change removes and drops a tick that comes over a second late
// (a busy event loop), so a tick is never taken as "the scheduled time": each tick compares now with `nextDue`,
// and a due time that a late or dropped tick passed still runs at the next tick.
//
// Heartbeat: every 10 seconds. A once-a-minute tick would start a backup up to a minute late whenever node-cron
// drops one (and scheduled times may carry seconds: 4D writes `02:30:15`); every 10 s keeps a backup within ~10 s
// of its time, and a tick costs one date comparison (settings are read only when something is due).

import cron, { type ScheduledTask } from "node-cron";
import { isoDay, nextRun, type SchedulerSettings } from "./next-run";
import { localTimeZone } from "./zoned-time";

/** What getScheduler returns when Settings/Backup.4DSettings can't be read or is malformed. */
export interface SettingsUnavailable {
  unavailable: true;
  reason: string;
}

export function settingsUnavailable(reason: string): SettingsUnavailable {
  return { unavailable: true, reason };
}

function isUnavailable(v: SchedulerSettings | SettingsUnavailable): v is SettingsUnavailable {
  return (v as SettingsUnavailable).unavailable === true;
}

export const HEARTBEAT = "*/10 * * * * *";

export interface SchedulerOptions {
  getScheduler: () => Promise<SchedulerSettings | SettingsUnavailable>;
  /** A scheduled time has come: start a scheduled backup. Called once per due time, even for a late tick. */
  onDue: (scheduledDate: Date) => Promise<void>;
  /** A scheduled time came while the settings couldn't be read: no backup runs on a guess (the caller alerts). */
  onSkipped?: (scheduledDate: Date, reason: string) => Promise<void> | void;
  /** A callback threw, or the schedule can't be computed (an invalid cron expression). Defaults to console.error. */
  onError?: (error: unknown) => void;
  now?: () => Date;
  timeZone?: string;
  /** "cron" (default): node-cron drives tick(); "manual": the caller (tests) calls tick() itself. */
  tick?: "cron" | "manual";
}

export class Scheduler {
  private readonly now: () => Date;
  private readonly timeZone: string;
  /** Last known good schedule, as read, and the one used for timing (with a pinned anchor). */
  private known: { raw: string; effective: SchedulerSettings } | null = null;
  private due: Date | null = null;
  /** The last scheduled time handled: the series never goes back before it, even if the clock does. */
  private lastFired: Date | null = null;
  /** The instant `due` was computed from, to recompute it when the settings change under it. */
  private base: Date | null = null;
  private problem: string | null = null;
  private task: ScheduledTask | null = null;
  private evaluating = false;

  constructor(private readonly opts: SchedulerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.timeZone = opts.timeZone ?? localTimeZone();
  }

  /** When the next scheduled backup fires: exactly the date onDue/onSkipped will receive. Null when none. */
  nextDue(): Date | null {
    return this.due;
  }

  /** Why the settings couldn't be read at the last attempt, or null. */
  settingsProblem(): string | null {
    return this.problem;
  }

  /**
   * Starts watching the schedule from `from` (now by default): the first time it fires is the first one strictly
   * after `from`. The start-up check for times missed while the server was down covers up to that same instant, so
   * a time that comes while the server is starting is either missed or run, never both.
   */
  async start(from?: Date): Promise<void> {
    await this.reschedule(from);
    if ((this.opts.tick ?? "cron") === "cron" && !this.task) {
      // We detect late ticks ourselves, hence no node-cron "missed execution" warnings.
      this.task = cron.schedule(HEARTBEAT, () => this.tick(), { name: "strongbox-scheduler", suppressMissedWarning: true });
    }
  }

  async stop(): Promise<void> {
    const task = this.task;
    this.task = null;
    await task?.destroy();
  }

  /** Re-reads the settings (call after saving them): the new schedule counts from now, not from the last run. */
  async reschedule(from?: Date): Promise<Date | null> {
    const read = await this.read();
    if (read) this.adopt(read);
    this.due = this.compute(from ?? this.now());
    return this.due;
  }

  /** One heartbeat: runs what is due. Resolves when the callback it started (if any) has finished. */
  async tick(): Promise<void> {
    // Only the decision is exclusive: a tick during a long backup still fires the next due time (the automation
    // then records that it skipped because an operation is running, docs/operations.md).
    if (this.evaluating) return;
    this.evaluating = true;
    let fire: (() => Promise<void> | void) | null = null;
    try {
      const now = this.now();
      if (!this.due || now < this.due) return;
      const read = await this.read();
      if (read && this.changed(read)) {
        // Edited without reschedule(): adopt it, and fire only if the new schedule is due too.
        this.adopt(read);
        this.due = this.compute(this.base ?? now);
        if (!this.due || now < this.due) return;
      }
      const scheduled = this.due;
      this.lastFired = scheduled;
      // One run however many times a late tick passed; the series resumes at the first time after now.
      this.due = this.compute(now);
      const reason = this.problem ?? "the backup settings can't be read";
      fire = read
        ? () => this.opts.onDue(scheduled)
        : // Settings unreadable: the schedule itself is unknown, so timing keeps to the last known good schedule
          // and each time it would have fired is reported as skipped.
          () => this.opts.onSkipped?.(scheduled, reason);
    } catch (e) {
      this.report(e);
    } finally {
      this.evaluating = false;
    }
    if (fire) {
      try {
        await fire();
      } catch (e) {
        this.report(e);
      }
    }
  }

  private async read(): Promise<SchedulerSettings | null> {
    try {
      const v = await this.opts.getScheduler();
      if (isUnavailable(v)) {
        this.problem = v.reason;
        return null;
      }
      this.problem = null;
      return v;
    } catch (e) {
      this.problem = e instanceof Error ? e.message : String(e);
      return null;
    }
  }

  private changed(s: SchedulerSettings): boolean {
    return this.known?.raw !== JSON.stringify(s);
  }

  private adopt(s: SchedulerSettings): void {
    if (!this.changed(s)) return;
    // A schedule never saved has no anchor: pin today's, so "every X" keeps one phase from run to run (nextRun
    // alone would re-anchor on each call's day).
    const effective = s.anchor !== null ? s : { ...s, anchor: isoDay(this.now(), { timeZone: this.timeZone }) };
    this.known = { raw: JSON.stringify(s), effective };
  }

  /** The first time strictly after `after` (and after the last one handled), per the last known good schedule. */
  private compute(after: Date): Date | null {
    if (!this.known) return null;
    const from = this.lastFired && this.lastFired > after ? this.lastFired : after;
    this.base = from;
    try {
      return nextRun(this.known.effective, from, { timeZone: this.timeZone });
    } catch (e) {
      this.report(e);
      return null;
    }
  }

  private report(e: unknown): void {
    (this.opts.onError ?? ((err) => console.error("[scheduler]", err)))(e);
  }
}
