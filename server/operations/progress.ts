// What the consoles see of operations: the one running operation's progress (streamed while it runs), an
// operation's outcome, and the state of automatic backups. Types only; the phase names are in ../isomorphic/phases.
import type { Trigger } from "../isomorphic/operation-kinds";
import type { Phase, TaskKind } from "../isomorphic/phases";

export interface OperationProgress {
  operationId: string;
  kind: TaskKind;
  backupNumber: number | null;
  trigger: Trigger;
  archivePath: string | null;
  startedAt: string;
  phase: Phase;
  /** 0–100, whole operation (a backup's archive phase dominates; see backup/phases for the weighting). */
  percent: number;
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
  currentFile: string | null;
  bytesPerSecond: number | null;
  etaSeconds: number | null;
  stopping: boolean;
  /** The journal block as it builds up (the console shows it live: docs/journal.md). */
  journalPreview: string;
}

/** What the console is told when an operation ends. */
export interface OperationOutcome {
  operationId: string;
  kind: TaskKind;
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
