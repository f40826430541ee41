// The one current-operation record the engine owns and streams (conventions: "progress is state").
import type { LockState } from "../locks/backup-locks";
import type { Trigger } from "../operation";

export type Phase = "startup" | "snapshot" | "archive" | "verify" | "commit" | "logBackup" | "retention" | "restore" | "integrate" | "swap" | "shutdown";

/** Phases a Stop can still cancel; from the commit on, the archive is whole and the backup ends as it is. */
export const STOPPABLE_PHASES: ReadonlySet<Phase> = new Set(["startup", "snapshot", "archive", "verify", "restore", "integrate"]);

/** The operations the engine runs, one at a time (spec §7). */
export type EngineOperationKind = "backup" | "logIntegration" | "restore" | "restoreInPlace" | "verify";

export interface OperationProgress {
  operationId: string;
  kind: EngineOperationKind;
  backupNumber: number | null;
  trigger: Trigger;
  archivePath: string | null;
  startedAt: string;
  phase: Phase;
  /** 0–100, whole backup (the archive phase dominates; see backup-engine.ts for the weighting). */
  percent: number;
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
  currentFile: string | null;
  bytesPerSecond: number | null;
  etaSeconds: number | null;
  stopping: boolean;
  /** The journal block as it builds up (spec §5: the console shows it from the engine's own state). */
  journalPreview: string;
}

/** What the console is told when an operation ends. */
export interface OperationOutcome {
  operationId: string;
  kind: EngineOperationKind;
  trigger: Trigger;
  backupNumber: number;
  status: number;
  statusText: string;
  partial: boolean;
  archivePath: string | null;
  startingDate: string;
  endingDate: string;
  /** Plain lines for the console about where things went (a restore's folder, the replaced data file kept aside…). */
  details?: string[];
}

/** Automatic backups as the Backup page shows them: a pending retry, automatic backups off after 1401, alerts. */
export interface AutomationState {
  pendingRetry: { at: string; attempt: number; scheduledDate: string | null; reason: string } | null;
  disabled: { since: string; text: string } | null;
  /** Open alerts, the same ones grouped (count, first and last time: see groupAlerts). */
  alerts: Array<{ ids: number[]; status: number; text: string; count: number; firstAt: string; lastAt: string; scheduledDate: string | null }>;
}

export type EngineEvent =
  | { type: "progress"; progress: OperationProgress }
  | { type: "finished"; outcome: OperationOutcome }
  | { type: "automation"; automation: AutomationState }
  /** A block was written to the backup journal (by any operation, a postponed attempt or crash recovery). */
  | { type: "journal"; file: string }
  /** The backup locks changed (taken, released, a write started or stopped waiting): the Data page's dialog. */
  | { type: "locks"; locks: LockState };
