// The backup settings as the engine sees them (docs/settings.md). Parsed from and written to Settings/Backup.4DSettings
// by ./backup-settings-file.ts; key names follow 4D's.

export type Compression = "None" | "Fast" | "Compact";
export { WEEKDAYS, type Frequency, type Weekday } from "../isomorphic/schedule";
import type { Frequency, Weekday } from "../isomorphic/schedule";
export type DataLockMode = "Snapshot" | "Full";

/** A wall-clock time of day, as 4D writes it (`0000-00-00T02:30:00.000`), in seconds since midnight. */
export type TimeOfDay = number;

export interface BackupSettings {
  /** DataBase/DatabaseName resolved to a plain name (not yet cleaned), or null when absent. */
  databaseName: string | null;
  general: {
    includeStructureFile: boolean;
    includeDataFile: boolean;
    /** As written in the file: absolute, or relative to the database folder. */
    destinationFolder: string;
    /** Attachments as written (absolute or relative to the database folder). */
    includesFiles: string[];
  };
  scheduler: {
    frequency: Frequency;
    hourly: { every: number; startingAt: TimeOfDay };
    daily: { every: number; hour: TimeOfDay };
    weekly: { every: number; days: Record<Weekday, { save: boolean; hour: TimeOfDay }> };
    monthly: { every: number; day: number; hour: TimeOfDay };
    cron: string;
    /** ISO date (YYYY-MM-DD) from which "every X" counts; null when never saved. */
    anchor: string | null;
  };
  advanced: {
    setNumber: { enable: boolean; value: number };
    eraseOldBackupBefore: boolean;
    backupIfDataChange: boolean;
    compressionRate: Compression;
    checkArchiveFileDuringBackup: boolean;
    backupJournalVerboseMode: boolean;
    backupFailure: {
      tryBackupAtTheNextScheduledDate: boolean;
      /** Seconds (4D writes a time, possibly with milliseconds). */
      tryToBackupAfter: number;
      abortIfBackupFail: boolean;
      /** 0 is read as written (4D files may carry it while AbortIfBackupFail is off); treat it as 1. */
      retryCountBeforeAbort: number;
    };
    automaticRestore: boolean;
    automaticLogIntegration: boolean;
    dataLockMode: DataLockMode;
    useLog: boolean;
  };
}
