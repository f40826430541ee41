// Automatic backups (docs/operations.md#scheduler, #failure-policy): what the scheduler's due times turn into. A due time starts a scheduled backup
// unless another operation runs (skipped, recorded) or nothing changed (BackupIfDataChange: "*** Backup
// postponed"); a failure that made the backup impossible is retried per BackupFailure, then alerted; with
// AbortIfBackupFail, 1401 turns automatic backups off until a restart or a successful manual backup.
import { bookkeepingOf } from "../data/bookkeeping";
import { dataFileModified } from "../data/data-change";
import type { Backups } from "../backup/backups";
import type { InterruptedOperation } from "../backup/crash-recovery";
import { newRecord, type OperationRecord, type Trigger } from "../operation";
import type { DatabaseContext } from "../operations/database-context";
import type { AutomationState, OperationOutcome } from "../operations/progress";
import type { OperationRunner } from "../operations/runner";
import { isDomainError } from "../errors";
import { STATUS, statusText } from "../isomorphic/status";
import { DEFAULT_RETRY_AFTER_SECONDS } from "../settings/defaults";
import { groupAlerts, type AlertStore } from "./alerts";
import { sendWebhook } from "./webhook";
import { classify, decideAfterFailure, MIN_RETRY_SECONDS } from "./failure-policy";
import { FailureSeriesStore, type PendingRetry } from "./failure-series";
import { firstMissedRun, type SchedulerSettings } from "../scheduler/next-run";
import type { SettingsUnavailable } from "../scheduler/scheduler";

export interface AutomationOptions {
  db: DatabaseContext;
  /** The one slot: a scheduled time that finds it taken is skipped. */
  runner: OperationRunner;
  backups: Backups;
  alerts: AlertStore;
  /** When the scheduler fires next (for TryBackupAtTheNextScheduledDate and the Backup page). */
  nextScheduled: () => Date | null;
  now?: () => Date;
  log?: (message: string) => void;
}

export class BackupAutomation {
  /** Consecutive failed automatic attempts, and the retry waiting to run: saved in console.sqlite on each change. */
  private failures = 0;
  private pending: (PendingRetry & { timer: NodeJS.Timeout | null }) | null = null;
  private disabled: { since: Date; text: string } | null = null;
  private readonly now: () => Date;
  private readonly series: FailureSeriesStore;
  /** Set when the server stops: no timer is armed any more (a retry decided now is saved for the next start). */
  private stopped = false;
  /** Attempts and webhook posts under way, which a graceful stop lets finish. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly opts: AutomationOptions) {
    this.now = opts.now ?? (() => opts.db.clock.now());
    this.series = new FailureSeriesStore(opts.db.consoleDb, opts.db.databaseDir);
    // Any successful backup ends the failure series and makes a pending retry pointless; a successful manual (or
    // BACKUP command) backup also turns automatic backups back on after 1401 (docs/operations.md).
    opts.db.bus.on("event", (e) => {
      if (e.type !== "finished" || e.outcome.kind !== "backup" || classify(e.outcome.status, e.outcome.partial) !== "success") return;
      this.failures = 0;
      this.clearRetry();
      this.save();
      if (e.outcome.trigger.kind === "manual" || e.outcome.trigger.kind === "command") this.disabled = null;
      this.publish();
    });
  }

  /**
   * At start, before the scheduler runs: takes the failure series back from before the restart (a pending retry
   * runs at its time, or at once if that time passed while the server was down), then counts each automatic backup
   * that crash recovery found interrupted as one more failed attempt. Returns lines for the start-up output.
   */
  async resume(interruptedAtStart: readonly InterruptedOperation[] = []): Promise<string[]> {
    const messages: string[] = [];
    const saved = this.series.load();
    this.failures = saved.failures;
    if (saved.retry) {
      this.armRetry(saved.retry);
      messages.push(`A retry of an automatic backup (attempt ${saved.retry.attempt}) is due ${saved.retry.at <= this.now() ? "now" : `at ${saved.retry.at.toISOString()}`}: ${saved.retry.reason}`);
    }
    for (const o of interruptedAtStart) {
      if (o.trigger.kind !== "scheduler" && o.trigger.kind !== "retry") continue;
      await this.afterFailure(o.status, o.statusText, o.scheduledDate);
    }
    this.publish();
    return messages;
  }

  /** Automatic backups turned off after 1401 (since when and why), or null while they run. */
  automaticOff(): { since: string; text: string } | null {
    return this.disabled ? { since: this.disabled.since.toISOString(), text: this.disabled.text } : null;
  }

  state(): AutomationState {
    return {
      pendingRetry: this.pending ? { at: this.pending.at.toISOString(), attempt: this.pending.attempt, scheduledDate: this.pending.scheduledDate?.toISOString() ?? null, reason: this.pending.reason } : null,
      disabled: this.disabled ? { since: this.disabled.since.toISOString(), text: this.disabled.text } : null,
      alerts: groupAlerts(this.opts.alerts.open()),
    };
  }

  /** The scheduler's callback: a scheduled time has come. */
  async onDue(scheduledDate: Date): Promise<void> {
    if (this.disabled) {
      this.opts.log?.(`Scheduled backup of ${scheduledDate.toISOString()} not started: automatic backups are off (${this.disabled.text}).`);
      return;
    }
    await this.track(this.attempt({ kind: "scheduler", user: null }, scheduledDate));
  }

  /** The scheduler's callback when the settings can't be read: no backup runs on a guess, and an alert says so. */
  async onSkipped(scheduledDate: Date, reason: string): Promise<void> {
    await this.alert(STATUS.BACKUP_ERROR, `The scheduled backup of ${scheduledDate.toISOString()} did not run: ${reason}`, scheduledDate);
  }

  /**
   * At start: scheduled times that passed while the server was down (since `lastAlive`) count as one failed
   * backup (docs/settings.md), which then follows the failure settings. Returns the first missed time, if any. `until` is
   * the instant the scheduler started watching from (Scheduler.start): later times are the scheduler's to run.
   */
  async checkMissedWhileDown(lastAlive: Date | null, schedule: SchedulerSettings | SettingsUnavailable, until: Date = this.now()): Promise<Date | null> {
    if (!lastAlive || "unavailable" in schedule) return null;
    const missed = firstMissedRun(schedule, lastAlive, until);
    if (missed) await this.onMissedWhileDown(missed);
    return missed;
  }

  /** One failed backup for a scheduled time the server was not running at. */
  async onMissedWhileDown(scheduledDate: Date): Promise<void> {
    const text = "Error during backup: the server was not running at the scheduled time";
    await this.appendJournal(failedRecord(scheduledDate, { kind: "scheduler", user: null }, text, this.now()));
    await this.afterFailure(STATUS.BACKUP_ERROR, text, scheduledDate);
  }

  /** An operator gives up on the pending retry: the failure series ends with it. */
  cancelRetry(): boolean {
    if (!this.pending) return false;
    this.clearRetry();
    this.failures = 0;
    this.save();
    this.publish();
    return true;
  }

  private clearRetry(): void {
    if (this.pending?.timer) clearTimeout(this.pending.timer);
    this.pending = null;
  }

  acknowledge(id: number, user: string): boolean {
    return this.acknowledgeMany([id], user) > 0;
  }

  /** Acknowledges a group of alerts (their ids); returns how many were still open. */
  acknowledgeMany(ids: number[], user: string): number {
    const done = this.opts.alerts.acknowledgeMany(ids, user, this.now());
    if (done) this.publish();
    return done;
  }

  /** "Acknowledge all": every open alert at once; returns how many. */
  acknowledgeAll(user: string): number {
    const done = this.opts.alerts.acknowledgeAll(user, this.now());
    if (done) this.publish();
    return done;
  }

  /**
   * The server is stopping: the retry timer is disarmed (the retry stays saved for the next start) and no new one is
   * armed. An attempt under way is not cut here: the runner's shutdown Stop ends it, and `idle()` waits for it.
   */
  stop(): void {
    this.stopped = true;
    if (this.pending?.timer) clearTimeout(this.pending.timer);
    if (this.pending) this.pending.timer = null;
  }

  /** Resolves once the attempts under way (their failure handling, alerts and webhook posts included) have ended. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  private async attempt(trigger: Trigger, scheduledDate: Date | null): Promise<void> {
    const { db, runner, backups } = this.opts;
    if (this.disabled) return; // after 1401 only a manual backup (or a restart) turns them back on
    if (runner.running) return this.busy(trigger, scheduledDate);
    try {
      const ctx = await db.resolve();
      if (trigger.kind === "scheduler" && ctx.settings.advanced.backupIfDataChange && !this.dataModified()) {
        await this.appendJournal(postponedRecord(scheduledDate, this.now()), ctx.settings.advanced.backupJournalVerboseMode);
        return;
      }
    } catch {
      // Settings unreadable: the backup itself reports it (and fails, to be retried as any impossible backup).
    }
    let outcome: OperationOutcome;
    try {
      outcome = await backups.start({ trigger, scheduledDate }).done;
    } catch (err) {
      // Another operation started in between (-9976): the same as finding it running.
      if (isDomainError(err) && err.status === STATUS.BACKUP_IN_PROGRESS) return this.busy(trigger, scheduledDate);
      // Refused as impossible (the server is shutting down): a failed attempt like any other, recorded and retried.
      const status = isDomainError(err) ? (err.status ?? STATUS.BACKUP_ERROR) : null;
      if (status !== null && classify(status, false) === "impossible") {
        await this.appendJournal(failedRecord(scheduledDate, trigger, (err as Error).message, this.now(), status));
        return this.afterFailure(status, (err as Error).message, scheduledDate);
      }
      this.opts.log?.(`Automatic backup not started: ${(err as Error).message}`);
      return;
    }
    const kind = classify(outcome.status, outcome.partial);
    // Successes are handled by the "finished" listener; a Stop or a hook's cancel ends the series, never retried.
    // The server shutting down is not a Stop (1409): the policy below retries it, at the next start if need be.
    if (kind === "canceled") {
      this.failures = 0;
      this.save();
    } else if (kind === "impossible") await this.afterFailure(outcome.status, outcome.statusText, scheduledDate);
  }

  /**
   * Another operation runs. A scheduled time is skipped and journaled (docs/operations.md: no second operation, no error);
   * a retry is not lost: it is armed again for after the delay.
   */
  private async busy(trigger: Trigger, scheduledDate: Date | null): Promise<void> {
    if (trigger.kind === "retry") {
      const policy = await this.policy();
      this.scheduleRetry(new Date(this.now().getTime() + Math.max(MIN_RETRY_SECONDS, policy.tryToBackupAfter) * 1000), scheduledDate,
        "another operation was running when the retry was due");
      this.publish();
      return;
    }
    await this.appendJournal(postponedRecord(scheduledDate, this.now(), "Skipped: another operation was running at the scheduled time."));
  }

  private async policy() {
    try {
      return (await this.opts.db.resolve()).settings.advanced.backupFailure;
    } catch {
      return { tryBackupAtTheNextScheduledDate: false, tryToBackupAfter: DEFAULT_RETRY_AFTER_SECONDS, abortIfBackupFail: false, retryCountBeforeAbort: 5 };
    }
  }

  private async afterFailure(status: number, text: string, scheduledDate: Date | null): Promise<void> {
    this.failures++;
    const policy = await this.policy();
    const decision = decideAfterFailure(this.failures, policy, this.now(), this.opts.nextScheduled());
    if (decision.kind === "retry") {
      if (decision.alert) await this.alert(status, text, scheduledDate);
      this.scheduleRetry(decision.at, scheduledDate, `${status} ${text}`);
    } else if (decision.kind === "alert") {
      this.failures = 0;
      this.clearRetry();
      await this.alert(status, text, scheduledDate);
    } else {
      this.clearRetry();
      const abortText = `${statusText(STATUS.MAX_ATTEMPTS)} after ${this.failures} failed attempts (last: ${status} ${text})`;
      this.disabled = { since: this.now(), text: abortText };
      this.failures = 0;
      await this.appendJournal(failedRecord(scheduledDate, { kind: "retry", user: null }, abortText, this.now(), STATUS.MAX_ATTEMPTS));
      await this.alert(STATUS.MAX_ATTEMPTS, abortText, scheduledDate);
    }
    this.save();
    this.publish();
  }

  private scheduleRetry(at: Date, scheduledDate: Date | null, reason: string): void {
    this.armRetry({ at, attempt: this.failures + 1, scheduledDate, reason });
    this.save();
  }

  /** Sets the pending retry and, unless the server is stopping, its timer (which fires at once for a past time). */
  private armRetry(retry: PendingRetry): void {
    this.clearRetry();
    const timer = this.stopped ? null : setTimeout(() => {
      // From here the retry is under way: a crash during it is counted at the next start (crash recovery).
      this.pending = null;
      this.save();
      this.publish();
      this.track(this.attempt({ kind: "retry", user: null }, retry.scheduledDate)).catch((err: Error) => this.opts.log?.(`The retry failed to run: ${err.message}`));
    }, Math.max(0, retry.at.getTime() - this.now().getTime()));
    timer?.unref();
    this.pending = { ...retry, timer };
  }

  /** Saves the failure series; a console.sqlite that can't be written costs only its survival across a restart. */
  private save(): void {
    try {
      this.series.save({ failures: this.failures, retry: this.pending });
    } catch (err) {
      this.opts.log?.(`The state of automatic backups could not be saved (a restart would forget a pending retry): ${(err as Error).message}`);
    }
  }

  private async alert(status: number, text: string, scheduledDate: Date | null): Promise<void> {
    const database = this.opts.db.databaseDir;
    const alert = this.opts.alerts.raise({ status, text, database, scheduledDate, now: this.now() });
    this.publish();
    const { url, allowPrivate } = this.opts.alerts.webhook();
    // Not awaited: a slow webhook must not hold up an operation or the server's start.
    if (url) void this.track(sendWebhook({ url, allowPrivate }, alert).then((sent) => { if (!sent.ok) this.opts.log?.(`The alert could not be sent to the webhook ${url}: ${sent.error}`); }));
  }

  private dataModified(): boolean {
    const { db } = this.opts;
    let lastOperation = 0;
    try {
      lastOperation = bookkeepingOf(db.layout.dataFile)?.lastOperation ?? 0;
    } catch {
      return true; // can't tell: back up
    }
    return dataFileModified(db.consoleDb, db.databaseDir, db.layout.dataFile, lastOperation);
  }

  /** The record of an attempt that never took the slot: a journal block, no history entry. */
  private async appendJournal(record: OperationRecord, verbose = true): Promise<void> {
    await this.opts.runner.recorder.write(record, { verbose, history: null });
  }

  private publish(): void {
    this.opts.db.bus.publish({ type: "automation", automation: this.state() });
  }
}

function postponedRecord(scheduledDate: Date | null, now: Date, note = "The data file has not been modified since the last backup (BackupIfDataChange)."): OperationRecord {
  return newRecord({ operation: "postponed", trigger: { kind: "scheduler", user: null }, scheduledDate, startingDate: now, notes: [note] });
}

function failedRecord(scheduledDate: Date | null, trigger: Trigger, text: string, now: Date, status: number = STATUS.BACKUP_ERROR): OperationRecord {
  return newRecord({ operation: "backup", trigger, scheduledDate, startingDate: now, status, statusText: text, errors: [{ code: status, text }] });
}
