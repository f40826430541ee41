// What one operation (a backup, a restore, a log integration, a postponed attempt) was: the record that the
// journal (spec §5) and backupHistory.json (spec §4) are both written from.

export type OperationKind = "backup" | "restore" | "automaticRestore" | "logIntegration" | "postponed";
/** `startup`: the server itself at start, for an automatic restore of a damaged data file (spec §6 AutomaticRestore). */
export type TriggerKind = "manual" | "scheduler" | "command" | "retry" | "startup";

export interface Trigger {
  kind: TriggerKind;
  /** The user (manual) or the user or token name (command); null for the scheduler. */
  user: string | null;
}

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
  /** Log backup written by this operation, or null (spec §9; `logPath` "" in the history). */
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
