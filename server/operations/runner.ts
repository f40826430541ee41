// The one home of the operation lifecycle (docs/operations.md#one-operation-at-a-time). One operation at a time:
// the slot is taken synchronously, so two starts in the same tick can't both pass the check. Then, the same for
// every task: the progress record, streamed at most every PROGRESS_INTERVAL_MS; Stop through the abort signal;
// any error mapped to a status (errors.ts); locks let go and temporary files removed on every path; the task's
// shutdown step; the history entry and journal block (recorder.ts); the ledger for crash recovery; the outcome,
// kept as the last result and told to every console on the bus.
import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { DomainError } from "../errors";
import { HISTORY_FILE_NAME, toHistoryEntry, type HistoryEntry } from "../history/backup-history";
import { STOPPABLE_PHASES, type TaskKind } from "../isomorphic/phases";
import { STATUS } from "../isomorphic/status";
import { formatRunningBlock } from "../journal/format-block";
import { newRecord, type OperationRecord } from "../operation";
import type { DatabaseContext, ResolvedContext } from "./database-context";
import { stopReason, toOperationError, type StopCause } from "./errors";
import { LastAttempts } from "./last-attempts";
import { OperationLedger } from "./ledger";
import type { OperationOutcome, OperationProgress } from "./progress";
import { OperationRecorder } from "./recorder";
import type { Task, TaskContext } from "./task";

/** Progress is sent at most this often: 5 a second reaches a browser "at least twice a second" without flooding. */
export const PROGRESS_INTERVAL_MS = 200;

/** What an operation asked for while the server stops is told (1409: an automatic backup is retried at the next start). */
export const SHUTTING_DOWN_TEXT = "The server is shutting down: no operation can start now. Try again once it has restarted.";

/** How long a stopped task may take to end before the runner records it as stopped and frees the slot anyway. */
export const STOP_GRACE_MS = 10_000;

/** The operation's name in a sentence. */
export const TASK_NAMES: Record<TaskKind, string> = {
  backup: "backup", logIntegration: "log integration", restore: "restore", restoreInPlace: "restore of the data file", verify: "verification",
};

/** What a refused start says, by the operation already running. */
const RUNNING_TEXT: Record<TaskKind, string> = {
  backup: "A backup is already in progress.", logIntegration: "A log integration is running.", restore: "A restore is in progress.",
  restoreInPlace: "A restore of the data file is in progress.", verify: "An archive verification is in progress.",
};

export interface StartedOperation {
  operationId: string;
  /** Resolves with the outcome; never rejects (a failure is an outcome too). */
  done: Promise<OperationOutcome>;
}

interface Slot {
  task: Task;
  progress: OperationProgress;
  abort: AbortController;
  done: Promise<OperationOutcome>;
}

export interface RunnerOptions {
  /** See STOP_GRACE_MS (tests shorten it). */
  stopGraceMs?: number;
}

export class OperationRunner {
  readonly recorder: OperationRecorder;
  /** The last backup attempt, also when its history entry could not be written (see last-attempts.ts). */
  readonly lastAttempts: LastAttempts;
  private readonly ledger: OperationLedger;
  private current: Slot | null = null;
  private lastOutcome: OperationOutcome | null = null;
  private timer: NodeJS.Timeout | null = null;
  private dirty = false;
  /** Set by shutDown(): the server is stopping, and no operation may start any more. */
  private closing = false;

  constructor(readonly db: DatabaseContext, private readonly opts: RunnerOptions = {}) {
    this.recorder = new OperationRecorder(db);
    this.ledger = new OperationLedger(db.consoleDb, db.databaseDir);
    this.lastAttempts = new LastAttempts(db.consoleDb, db.databaseDir);
  }

  /** True once the server's stop has begun (shutDown()): the running operation, if any, ends because of it. */
  get shuttingDown(): boolean {
    return this.closing;
  }

  get running(): OperationProgress | null {
    return this.current ? { ...this.current.progress } : null;
  }

  get lastResult(): OperationOutcome | null {
    return this.lastOutcome;
  }

  /** Starts the task and returns at once; refuses with -9976 while another operation runs (1417 during a log integration). */
  start(task: Task): StartedOperation {
    if (this.closing) throw new DomainError(STATUS.BACKUP_ERROR, SHUTTING_DOWN_TEXT);
    if (this.current) {
      const kind = this.current.task.kind;
      if (kind === "logIntegration") throw new DomainError(STATUS.LOG_INTEGRATION_RUNNING, "A log integration is running. Wait for it to end, or stop it first.");
      throw new DomainError(STATUS.BACKUP_IN_PROGRESS, `${RUNNING_TEXT[kind]} Wait for it to end, or stop it first.`);
    }
    const operationId = crypto.randomUUID();
    const progress: OperationProgress = {
      operationId, kind: task.kind, backupNumber: null, trigger: task.trigger, archivePath: null,
      startedAt: this.db.clock.now().toISOString(), phase: "startup", percent: 0, bytesDone: 0, bytesTotal: 0,
      filesDone: 0, filesTotal: 0, currentFile: null, bytesPerSecond: null, etaSeconds: null, stopping: false, journalPreview: "",
    };
    const slot: Slot = { task, progress, abort: new AbortController(), done: null as unknown as Promise<OperationOutcome> };
    this.current = slot;
    this.emitNow();
    // Every operation ends with an outcome, also when the lifecycle itself fails: the slot is freed, every console
    // told, and nobody's promise rejects (no caller awaits `done` for a console-started operation).
    slot.done = this.execute(slot)
      .catch((err: unknown) => this.finish(slot, this.crashedOutcome(slot, err)))
      .finally(() => {
        if (this.current === slot) this.current = null;
        this.stopTimer();
      });
    return { operationId, done: slot.done };
  }

  /**
   * Stop: the running task's signal is aborted and it ends within a second. False when nothing runs, or when the
   * operation is past the point of no return (a backup's commit, a restore's swap): it then ends as it is. `reason`
   * "shutdown" (the server is stopping) ends the operation with 1409 instead of a user's 1406, so that an automatic
   * backup is retried.
   */
  stop(opts: { reason?: StopCause } = {}): boolean {
    const slot = this.current;
    if (!slot || !STOPPABLE_PHASES.has(slot.progress.phase)) return false;
    slot.progress.stopping = true;
    slot.abort.abort(stopReason(opts.reason ?? "user", TASK_NAMES[slot.task.kind]));
    this.emitNow();
    return true;
  }

  async waitForIdle(): Promise<void> {
    await this.current?.done;
  }

  /** The server is stopping: nothing starts any more; the running operation is stopped (1409) and recorded. */
  async shutDown(): Promise<void> {
    this.closing = true;
    this.stop({ reason: "shutdown" });
    await this.waitForIdle();
  }

  // --- the lifecycle -------------------------------------------------------------------------------------------

  private async execute(slot: Slot): Promise<OperationOutcome> {
    const { task, progress } = slot;
    const signal = slot.abort.signal;
    const record = newRecord({ ...task.record, trigger: task.trigger, startingDate: new Date(progress.startedAt) });
    const state = {
      resolved: null as ResolvedContext | null, verbose: true, oldestKept: null as number | null, ledger: false,
      releases: [] as Array<() => void>, temps: [] as string[],
    };
    const runner = this;
    const ctx: TaskContext = {
      operationId: progress.operationId, signal, clock: this.db.clock, db: this.db, record, details: [],
      progress: {
        update: (patch, immediate) => this.update(slot, patch, immediate),
        phase: (phase, percent) => this.update(slot, { phase, percent, currentFile: null }, true),
        preview: () => this.update(slot, { journalPreview: formatRunningBlock({ ...record, endingDate: this.db.clock.now() }, { verbose: state.verbose }) }),
      },
      get serverStopping() {
        return runner.closing;
      },
      settings: async () => {
        if (!state.resolved) {
          state.resolved = await this.db.resolve();
          state.verbose = state.resolved.settings.advanced.backupJournalVerboseMode;
        }
        return state.resolved;
      },
      removeAtEnd: (...paths) => void state.temps.push(...paths),
      atEnd: (release) => void state.releases.push(release),
      beginLedger: (row) => {
        this.ledger.begin({ id: progress.operationId, kind: task.kind, backupNumber: row.backupNumber, trigger: task.trigger,
          scheduledAt: record.scheduledDate, startedAt: record.startingDate, tempPaths: row.tempPaths, archivePath: row.archivePath });
        state.ledger = true;
      },
      pruneHistoryTo: (n) => void (state.oldestKept = n),
    };

    try {
      await this.untilStopped(task.run(ctx), signal);
    } catch (err) {
      let e = toOperationError(err, signal, { name: TASK_NAMES[task.kind], stoppedText: task.stoppedText });
      if (task.explainFailure) e = await task.explainFailure(err, e, ctx).catch(() => e);
      record.status = e.status;
      record.statusText = e.message;
      record.partial = false;
      record.errors.push({ code: e.status, text: e.message });
      record.archive = null;
    } finally {
      // Shutdown begins with letting go: writes waiting for a lock go on while the records are written.
      this.update(slot, { phase: "shutdown" }, true);
      for (const release of state.releases.splice(0).reverse()) {
        try {
          release();
        } catch (err) {
          console.error(`[strongbox] letting go of a lock after the ${TASK_NAMES[task.kind]} failed:`, err);
        }
      }
      for (const t of state.temps) await fs.rm(t, { recursive: true, force: true }).catch(() => undefined);
    }

    this.update(slot, { phase: "shutdown", percent: record.status === 0 || record.partial ? 100 : progress.percent }, true);
    if (task.shutdown) {
      await task.shutdown(ctx).catch((err: Error) => record.notes.push(`Warning: the end of the ${TASK_NAMES[task.kind]} failed: ${err.message}`));
    }
    record.endingDate = this.db.clock.now();
    record.notes.push(...ctx.details);
    const notesBefore = record.notes.length;
    const inHistory = task.recordInHistory?.(record) ?? true;
    const resolved = state.resolved;
    await this.recorder.write(record, {
      verbose: state.verbose,
      journal: task.journal,
      history: inHistory && resolved ? { ctx: resolved, oldestKeptNumber: state.oldestKept, entry: this.historyEntry(task, record) } : null,
      onHistoryWritten: () => {
        if (state.ledger) this.ledger.markRecorded(progress.operationId);
      },
    });
    // A warning the records met (the history could not be written) is told to the console too.
    const warnings = record.notes.slice(notesBefore);
    if (state.ledger) {
      try {
        this.ledger.finish(progress.operationId, record.status, record.endingDate);
      } catch (err) {
        console.error(`[strongbox] the operations ledger could not be updated: ${(err as Error).message}`);
      }
    }
    if (inHistory && record.backupNumber > 0) {
      try {
        this.lastAttempts.record(this.historyEntry(task, record), resolved ? path.join(resolved.destination, HISTORY_FILE_NAME) : null);
      } catch (err) {
        console.error(`[strongbox] the last attempt could not be recorded in console.sqlite: ${(err as Error).message}`);
      }
    }
    return this.finish(slot, {
      operationId: progress.operationId, kind: task.kind, trigger: task.trigger, backupNumber: record.backupNumber,
      status: record.status, statusText: record.statusText, partial: record.partial,
      archivePath: task.outcomeArchive ? task.outcomeArchive(record) : record.archivePath,
      startingDate: record.startingDate.toISOString(), endingDate: record.endingDate.toISOString(),
      ...(ctx.details.length || warnings.length ? { details: [...ctx.details, ...warnings] } : {}),
    });
  }

  private historyEntry(task: Task, record: OperationRecord): HistoryEntry {
    const entry = toHistoryEntry(record);
    return task.historyEntry ? task.historyEntry(record, entry) : entry;
  }

  /**
   * The task's end, or — when it was stopped and does not end within the grace period — a rejection with the
   * stop's reason: a task that ignores its signal can't hold the slot for ever. (It is left to end on its own.)
   */
  private untilStopped(work: Promise<void>, signal: AbortSignal): Promise<void> {
    const grace = this.opts.stopGraceMs ?? STOP_GRACE_MS;
    let onAbort: (() => void) | undefined;
    const stopped = new Promise<never>((_, reject) => {
      onAbort = () => {
        const t = setTimeout(() => reject(signal.reason), grace);
        t.unref();
        work.finally(() => clearTimeout(t)).catch(() => undefined);
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    stopped.catch(() => undefined);
    return Promise.race([work, stopped]).finally(() => {
      if (onAbort) signal.removeEventListener("abort", onAbort);
    });
  }

  /** The outcome when the lifecycle itself failed (a bug): the slot is freed all the same. */
  private crashedOutcome(slot: Slot, err: unknown): OperationOutcome {
    console.error(`[strongbox] the ${TASK_NAMES[slot.task.kind]} failed unexpectedly:`, err);
    const p = slot.progress;
    return {
      operationId: p.operationId, kind: p.kind, trigger: p.trigger, backupNumber: p.backupNumber ?? 0, status: STATUS.BACKUP_ERROR,
      statusText: `The ${TASK_NAMES[slot.task.kind]} failed: ${(err as Error)?.message ?? String(err)}`,
      partial: false, archivePath: null, startingDate: p.startedAt, endingDate: this.db.clock.now().toISOString(),
    };
  }

  /** Ends an operation: the outcome becomes the last result (unless the task says otherwise) and every console is told. */
  private finish(slot: Slot, outcome: OperationOutcome): OperationOutcome {
    if (slot.task.announce !== false) this.lastOutcome = outcome;
    this.db.bus.publish({ type: "finished", outcome });
    return outcome;
  }

  // --- progress ------------------------------------------------------------------------------------------------

  private update(slot: Slot, patch: Partial<OperationProgress>, immediate = false): void {
    // A task that outlived its Stop (see untilStopped) no longer reports on a slot that may be someone else's.
    if (this.current !== slot) return;
    Object.assign(slot.progress, patch);
    if (immediate) this.emitNow();
    else this.dirty = true;
    this.timer ??= setInterval(() => {
      if (this.dirty) this.emitNow();
    }, PROGRESS_INTERVAL_MS);
  }

  private emitNow(): void {
    this.dirty = false;
    if (this.current) this.db.bus.publish({ type: "progress", progress: { ...this.current.progress } });
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
