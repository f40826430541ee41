// Automatic backups (spec §6–7): what the scheduler's due times turn into. A due time starts a scheduled backup
// unless another operation runs (skipped, recorded) or nothing changed (BackupIfDataChange: "*** Backup
// postponed"); a failure that made the backup impossible is retried per BackupFailure, then alerted; with
// AbortIfBackupFail, 1401 turns automatic backups off until a restart or a successful manual backup.
import Database from "better-sqlite3";
import { readBookkeeping } from "../data/bookkeeping";
import { dataFileModified } from "../data/data-change";
import type { BackupEngine } from "../engine/backup-engine";
import type { AutomationState, OperationOutcome } from "../engine/progress";
import { formatBlock } from "../journal/backup-journal";
import type { OperationRecord, Trigger } from "../operation";
import { isBackupError, STATUS, statusText } from "../status";
import { DEFAULT_RETRY_AFTER_SECONDS } from "../settings/defaults";
import type { AlertStore } from "./alerts";
import { sendWebhook } from "./webhook";
import { classify, decideAfterFailure, MIN_RETRY_SECONDS } from "./failure-policy";
import { firstMissedRun, type SchedulerSettings } from "../scheduler/next-run";
import type { SettingsUnavailable } from "../scheduler/scheduler";

export interface AutomationOptions {
  engine: BackupEngine;
  alerts: AlertStore;
  /** When the scheduler fires next (for TryBackupAtTheNextScheduledDate and the Backup page). */
  nextScheduled: () => Date | null;
  now?: () => Date;
  log?: (message: string) => void;
}

export class BackupAutomation {
  private failures = 0;
  private pending: { at: Date; attempt: number; scheduledDate: Date | null; reason: string; timer: NodeJS.Timeout } | null = null;
  private disabled: { since: Date; text: string } | null = null;
  private readonly now: () => Date;

  constructor(private readonly opts: AutomationOptions) {
    this.now = opts.now ?? (() => new Date());
    // Any successful backup ends the failure series and makes a pending retry pointless; a successful manual (or
    // BACKUP command) backup also turns automatic backups back on after 1401 (spec §7).
    opts.engine.on("event", (e) => {
      if (e.type !== "finished" || e.outcome.kind !== "backup" || classify(e.outcome.status, e.outcome.partial) !== "success") return;
      this.failures = 0;
      this.clearRetry();
      if (e.outcome.trigger.kind === "manual" || e.outcome.trigger.kind === "command") this.disabled = null;
      this.publish();
    });
  }

  state(): AutomationState {
    return {
      pendingRetry: this.pending ? { at: this.pending.at.toISOString(), attempt: this.pending.attempt, scheduledDate: this.pending.scheduledDate?.toISOString() ?? null, reason: this.pending.reason } : null,
      disabled: this.disabled ? { since: this.disabled.since.toISOString(), text: this.disabled.text } : null,
      alerts: this.opts.alerts.open().map(({ id, createdAt, status, text, scheduledDate }) => ({ id, createdAt, status, text, scheduledDate })),
    };
  }

  /** The scheduler's callback: a scheduled time has come. */
  async onDue(scheduledDate: Date): Promise<void> {
    if (this.disabled) {
      this.opts.log?.(`Scheduled backup of ${scheduledDate.toISOString()} not started: automatic backups are off (${this.disabled.text}).`);
      return;
    }
    await this.attempt({ kind: "scheduler", user: null }, scheduledDate);
  }

  /** The scheduler's callback when the settings can't be read: no backup runs on a guess, and an alert says so. */
  async onSkipped(scheduledDate: Date, reason: string): Promise<void> {
    await this.alert(STATUS.BACKUP_ERROR, `The scheduled backup of ${scheduledDate.toISOString()} did not run: ${reason}`, scheduledDate);
  }

  /**
   * At start: scheduled times that passed while the server was down (since `lastAlive`) count as one failed
   * backup (spec §6), which then follows the failure settings. Returns the first missed time, if any.
   */
  async checkMissedWhileDown(lastAlive: Date | null, schedule: SchedulerSettings | SettingsUnavailable): Promise<Date | null> {
    if (!lastAlive || "unavailable" in schedule) return null;
    const missed = firstMissedRun(schedule, lastAlive, this.now());
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
    this.publish();
    return true;
  }

  private clearRetry(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = null;
  }

  acknowledge(id: number, user: string): boolean {
    const done = this.opts.alerts.acknowledge(id, user, this.now());
    if (done) this.publish();
    return done;
  }

  stop(): void {
    if (this.pending) clearTimeout(this.pending.timer);
  }

  private async attempt(trigger: Trigger, scheduledDate: Date | null): Promise<void> {
    const { engine } = this.opts;
    if (this.disabled) return; // after 1401 only a manual backup (or a restart) turns them back on
    if (engine.running) return this.busy(trigger, scheduledDate);
    try {
      const ctx = await engine.resolve();
      if (trigger.kind === "scheduler" && ctx.settings.advanced.backupIfDataChange && !this.dataModified()) {
        await this.appendJournal(postponedRecord(scheduledDate, this.now()), ctx.settings.advanced.backupJournalVerboseMode);
        return;
      }
    } catch {
      // Settings unreadable: the backup itself reports it (and fails, to be retried as any impossible backup).
    }
    let outcome: OperationOutcome;
    try {
      outcome = await engine.start({ trigger, scheduledDate }).done;
    } catch (err) {
      // Another operation started in between (-9976): the same as finding it running.
      if (isBackupError(err) && err.status === STATUS.BACKUP_IN_PROGRESS) return this.busy(trigger, scheduledDate);
      this.opts.log?.(`Automatic backup not started: ${(err as Error).message}`);
      return;
    }
    const kind = classify(outcome.status, outcome.partial);
    // Successes are handled by the "finished" listener; a Stop or a hook's cancel ends the series, never retried.
    if (kind === "canceled") this.failures = 0;
    else if (kind === "impossible") await this.afterFailure(outcome.status, outcome.statusText, scheduledDate);
  }

  /**
   * Another operation runs. A scheduled time is skipped and journaled (spec §7: no second operation, no error);
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
      return (await this.opts.engine.resolve()).settings.advanced.backupFailure;
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
    this.publish();
  }

  private scheduleRetry(at: Date, scheduledDate: Date | null, reason: string): void {
    if (this.pending) clearTimeout(this.pending.timer);
    const attempt = this.failures + 1;
    const timer = setTimeout(() => {
      this.pending = null;
      this.publish();
      this.attempt({ kind: "retry", user: null }, scheduledDate).catch((err: Error) => this.opts.log?.(`The retry failed to run: ${err.message}`));
    }, Math.max(0, at.getTime() - this.now().getTime()));
    timer.unref();
    this.pending = { at, attempt, scheduledDate, reason, timer };
  }

  private async alert(status: number, text: string, scheduledDate: Date | null): Promise<void> {
    const database = this.opts.engine.opts.databaseDir;
    const alert = this.opts.alerts.raise({ status, text, database, scheduledDate, now: this.now() });
    this.publish();
    const { url, allowPrivate } = this.opts.alerts.webhook();
    // Not awaited: a slow webhook must not hold up the engine or the server's start.
    if (url) void sendWebhook({ url, allowPrivate }, alert).then((sent) => { if (!sent.ok) this.opts.log?.(`The alert could not be sent to the webhook ${url}: ${sent.error}`); });
  }

  private dataModified(): boolean {
    const { engine } = this.opts;
    let lastOperation = 0;
    try {
      const db = new Database(engine.layout.dataFile, { readonly: true, fileMustExist: true });
      try { lastOperation = readBookkeeping(db)?.lastOperation ?? 0; } finally { db.close(); }
    } catch {
      return true; // can't tell: back up
    }
    return dataFileModified(engine.opts.consoleDb, engine.opts.databaseDir, engine.layout.dataFile, lastOperation);
  }

  private async appendJournal(record: OperationRecord, verbose = true): Promise<void> {
    try {
      await this.opts.engine.journal.append(formatBlock(record, { verbose }));
    } catch (err) {
      this.opts.log?.(`The backup journal could not be written: ${(err as Error).message}`);
    }
  }

  private publish(): void {
    this.opts.engine.emit("event", { type: "automation", automation: this.state() });
  }
}

function baseRecord(scheduledDate: Date | null, trigger: Trigger, now: Date): OperationRecord {
  return {
    operation: "backup", backupNumber: 0, trigger, archivePath: null, logBackupPath: null, structurePath: "", dataPath: "",
    content: { projectFiles: null, dataFile: null, attachmentFiles: null }, attachments: [], files: [], archive: null,
    scheduledDate, startingDate: now, endingDate: now, status: 0, statusText: "OK", partial: false, errors: [], notes: [],
  };
}

function postponedRecord(scheduledDate: Date | null, now: Date, note = "The data file has not been modified since the last backup (BackupIfDataChange)."): OperationRecord {
  return { ...baseRecord(scheduledDate, { kind: "scheduler", user: null }, now), operation: "postponed", notes: [note] };
}

function failedRecord(scheduledDate: Date | null, trigger: Trigger, text: string, now: Date, status: number = STATUS.BACKUP_ERROR): OperationRecord {
  return { ...baseRecord(scheduledDate, trigger, now), status, statusText: text, errors: [{ code: status, text }] };
}
