// What one operation (a backup, a restore, a log integration, a postponed attempt) was: the record that the
// journal (docs/journal.md) and backupHistory.json (docs/backup-history.md) are both written from. Below the
// journal, the history and the archive reader, which all read it; the runner (operations/) fills it in.
import type { OperationKind, Trigger } from "./isomorphic/operation-kinds";

export type { OperationKind, Trigger, TriggerKind } from "./isomorphic/operation-kinds";

export interface AttachmentResult {
  /** Absolute path of the attachment on the server. */
  attachmentPath: string;
  found: boolean;
}

export interface OperationRecord {
  operation: OperationKind;
  backupNumber: number;
  trigger: Trigger;
  /** Final archive path (even when the operation failed: the path it would have had), or null. */
  archivePath: string | null;
  /** Log backup written by this operation, or null (docs/log-file.md; `logPath` "" in the history). */
  logBackupPath: string | null;
  structurePath: string;
  dataPath: string;
  content: {
    /** Structure (Project/ and Settings/) files saved, or null when not included. */
    projectFiles: { count: number; bytes: number } | null;
    /** Size of the data file snapshot, or null when not included. */
    dataFile: { bytes: number } | null;
    /** Attachment files saved (all attachments together). */
    attachmentFiles: { count: number; bytes: number } | null;
  };
  attachments: AttachmentResult[];
  /** Every file saved, as absolute original paths (attachments included). */
  files: string[];
  archive: { size: number; sha256: string; verified: boolean } | null;
  scheduledDate: Date | null;
  startingDate: Date;
  endingDate: Date;
  status: number;
  statusText: string;
  partial: boolean;
  /** Error lines for the journal: code and text, in the order they happened. */
  errors: Array<{ code: number; text: string }>;
  /** Free-form extra lines for the verbose journal (hook output, "took next free number", …). */
  notes: string[];
}

/** What an operation starts with: its kind, trigger and start, and whatever else is known at once. */
export type RecordStart = Pick<OperationRecord, "operation" | "trigger" | "startingDate"> & Partial<Omit<OperationRecord, "operation" | "trigger" | "startingDate">>;

/** The record of an operation that has just started: nothing done yet, OK until something fails. */
export function newRecord(start: RecordStart): OperationRecord {
  return {
    backupNumber: 0, archivePath: null, logBackupPath: null, structurePath: "", dataPath: "",
    content: { projectFiles: null, dataFile: null, attachmentFiles: null }, attachments: [], files: [], archive: null,
    scheduledDate: null, endingDate: start.startingDate, status: 0, statusText: "OK", partial: false, errors: [], notes: [],
    ...start,
  };
}
