// An operation as the runner runs it. A task says what it is (kind, trigger, the record it starts with) and does its
// work in run(ctx); everything around the work — the one slot, Stop, progress, the ledger, the mapping of any error
// to a status, temporary files, the history entry, the journal block, the outcome and the console's events — is the
// runner's (runner.ts), the same for every kind.
import type { HistoryEntry } from "../history/backup-history";
import type { Trigger } from "../isomorphic/operation-kinds";
import type { Phase, TaskKind } from "../isomorphic/phases";
import type { OperationRecord, RecordStart } from "../operation";
import type { Clock } from "./clock";
import type { DatabaseContext, ResolvedContext } from "./database-context";
import type { StatusError } from "./errors";
import type { OperationProgress } from "./progress";

export interface Task {
  /** What runs, as the progress bar and a refused start name it. */
  readonly kind: TaskKind;
  readonly trigger: Trigger;
  /** The record the operation starts with (its kind, paths, the archive…); the runner adds the trigger and dates. */
  readonly record: Omit<RecordStart, "trigger" | "startingDate">;
  /** The work. It throws to fail (any error: the runner maps it to a status) and honours ctx.signal. */
  run(ctx: TaskContext): Promise<void>;
  /** What a Stop leaves behind, added to the stop's text: "nothing changed", "the file holds the operations so far"… */
  readonly stoppedText?: string;
  /** A closer look at a failure before it is recorded (the backup checks whether its destination disappeared). */
  explainFailure?(err: unknown, mapped: StatusError, ctx: TaskContext): Promise<StatusError>;
  /**
   * After the work, whether it succeeded or not, once locks are let go and temporary files removed, and before the
   * record is written: the On Backup Shutdown hook. Its failures are the task's to report (as notes).
   */
  shutdown?(ctx: TaskContext): Promise<void>;
  /** Whether the record gets an entry in backupHistory.json (default: yes, once the settings could be read). */
  recordInHistory?(record: OperationRecord): boolean;
  /** The history entry as written, when it differs from the record's. */
  historyEntry?(record: OperationRecord, entry: HistoryEntry): HistoryEntry;
  /** false: no journal block. */
  readonly journal?: boolean;
  /** The archive the outcome names (default: the record's archive path). */
  outcomeArchive?(record: OperationRecord): string | null;
  /** false: the outcome is not kept as the consoles' last result (an automatic restore at start: a banner says it). */
  readonly announce?: boolean;
}

export interface ProgressControls {
  /** Changes the streamed progress; sent within PROGRESS_INTERVAL_MS, or at once with `immediate`. */
  update(patch: Partial<Omit<OperationProgress, "operationId" | "kind" | "trigger" | "startedAt">>, immediate?: boolean): void;
  /** A new phase at a percentage, sent at once. */
  phase(phase: Phase, percent: number): void;
  /** The journal block as it stands so far, for the console's live view. */
  preview(): void;
}

export interface TaskContext {
  readonly operationId: string;
  /** Aborted by Stop; its reason says why (see errors.ts). */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly db: DatabaseContext;
  /** What the journal and the history will say: the task fills it in as it goes. */
  readonly record: OperationRecord;
  /** Plain lines for the console about where things went; they also end the journal block's notes. */
  readonly details: string[];
  readonly progress: ProgressControls;
  /** True when the server is stopping (hooks then get a few seconds at most). */
  readonly serverStopping: boolean;
  /** The settings as this operation uses them, read once; the journal's verbosity and the history's place follow them. */
  settings(): Promise<ResolvedContext>;
  /** Removed (files or folders) when the operation ends, on every path. */
  removeAtEnd(...paths: string[]): void;
  /** Called when the operation ends, on every path, before the shutdown step: locks are let go here. */
  atEnd(release: () => void): void;
  /**
   * From here a crash leaves a row in console.sqlite's operations ledger that the next start finds: its temporary
   * files are removed, and the operation recorded as interrupted (or its committed archive recorded).
   */
  beginLedger(row: { backupNumber: number; archivePath: string; tempPaths: string[] }): void;
  /** Retention kept archives from this number on: the history entry's append prunes older entries. */
  pruneHistoryTo(oldestKeptNumber: number | null): void;
}
