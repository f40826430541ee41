// The settings used for every key a file doesn't set: 4D's own defaults where 4D has one (docs/settings.md), ours for
// DataLockMode, UseLog and the destination (an absolute folder under STRONGBOX_HOME, given by the caller).
import { WEEKDAYS, type BackupSettings, type Weekday } from "./model";

/** "Retry after": 4D's dialog leaves the unit to the user; we default to a 30-minute wait, enough for a full
 * disk or an unmounted volume to be dealt with, without losing a night's backup. */
export const DEFAULT_RETRY_AFTER_SECONDS = 30 * 60;

/** A retry delay below this is taken as this (4D files carry values like 0.561 s, which would spin); a new value
 * below it is refused on save. */
export const MIN_RETRY_SECONDS = 1;

export function defaultSettings(defaultDestination: string): BackupSettings {
  const days = Object.fromEntries(WEEKDAYS.map((d) => [d, { save: false, hour: 0 }])) as Record<
    Weekday,
    { save: boolean; hour: number }
  >;
  return {
    databaseName: null,
    general: {
      includeStructureFile: true,
      includeDataFile: true,
      destinationFolder: defaultDestination,
      includesFiles: [],
    },
    scheduler: {
      frequency: "Never",
      hourly: { every: 1, startingAt: 0 },
      daily: { every: 1, hour: 0 },
      weekly: { every: 1, days },
      monthly: { every: 1, day: 1, hour: 0 },
      cron: "",
      anchor: null,
    },
    advanced: {
      setNumber: { enable: true, value: 3 },
      eraseOldBackupBefore: false,
      backupIfDataChange: false,
      compressionRate: "Fast",
      checkArchiveFileDuringBackup: true,
      backupJournalVerboseMode: true,
      backupFailure: {
        tryBackupAtTheNextScheduledDate: false,
        tryToBackupAfter: DEFAULT_RETRY_AFTER_SECONDS,
        abortIfBackupFail: false,
        retryCountBeforeAbort: 5,
      },
      automaticRestore: true,
      automaticLogIntegration: true,
      dataLockMode: "Snapshot",
      useLog: true,
    },
  };
}
