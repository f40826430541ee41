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
import { STATUS, statusText } from "../status";
import { sendWebhook, type AlertStore } from "./alerts";
import { classify, decideAfterFailure } from "./failure-policy";
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
    // A successful manual backup turns automatic backups back on after 1401 (spec §7).
    opts.engine.on("event", (e) => {
      if (e.type === "finished" && e.outcome.trigger.kind === "manual" && classify(e.outcome.status, e.outcome.partial) === "success" && this.disabled) {
        this.disabled = null;
        this.failures = 0;
        this.publish();
      }
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

  cancelRetry(): boolean {
    if (!this.pending) return false;
    clearTimeout(this.pending.timer);
    this.pending = null;
    this.publish();
    return true;
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
    if (engine.running) {
      // Spec §7: the scheduler just records that it skipped (no second operation, no error, no retry).
      await this.appendJournal(postponedRecord(scheduledDate, this.now(), "Skipped: another operation was running at the scheduled time."));
      return;
    }
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
      this.opts.log?.(`Automatic backup not started: ${(err as Error).message}`);
      return;
    }
    const kind = classify(outcome.status, outcome.partial);
    if (kind === "success") {
      // A success makes a pending retry pointless.
      this.failures = 0;
      if (this.pending) clearTimeout(this.pending.timer);
      this.pending = null;
      this.publish();
    } else if (kind === "impossible") {
      await this.afterFailure(outcome.status, outcome.statusText, scheduledDate);
    }
  }

  private async afterFailure(status: number, text: string, scheduledDate: Date | null): Promise<void> {
    this.failures++;
    let policy;
    try {
      policy = (await this.opts.engine.resolve()).settings.advanced.backupFailure;
    } catch {
      policy = { tryBackupAtTheNextScheduledDate: false, tryToBackupAfter: 30 * 60, abortIfBackupFail: false, retryCountBeforeAbort: 5 };
    }
    const decision = decideAfterFailure(this.failures, policy, this.now(), this.opts.nextScheduled());
    if (decision.kind === "retry") {
      if (decision.alert) await this.alert(status, text, scheduledDate);
      this.scheduleRetry(decision.at, scheduledDate, `${status} ${text}`);
    } else if (decision.kind === "alert") {
      this.failures = 0;
      await this.alert(status, text, scheduledDate);
    } else {
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
      void this.attempt({ kind: "retry", user: null }, scheduledDate);
    }, Math.max(0, at.getTime() - this.now().getTime()));
    timer.unref();
    this.pending = { at, attempt, scheduledDate, reason, timer };
  }

  private async alert(status: number, text: string, scheduledDate: Date | null): Promise<void> {
    const database = this.opts.engine.opts.databaseDir;
    const alert = this.opts.alerts.raise({ status, text, database, scheduledDate, now: this.now() });
    this.publish();
    const url = this.opts.alerts.webhookUrl();
    if (url) {
      const sent = await sendWebhook(url, alert);
      if (!sent.ok) this.opts.log?.(`The alert could not be sent to the webhook ${url}: ${sent.error}`);
    }
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
