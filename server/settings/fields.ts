// The keys of Settings/Backup.4DSettings that Strongbox reads and writes (docs/settings.md), each with its place in the
// document, its codec and where it lives in BackupSettings. The order is 4D's, so a file we create from scratch
// looks like one 4D wrote. Every other element of a file is left alone.
import { bool, cron, int, isoDateOrNull, oneOf, text, time, type Codec } from "./codecs";
import { WEEKDAYS, type BackupSettings } from "./model";

export interface ScalarField<T = unknown> {
  kind: "scalar";
  /** Path under <Backup><Settings>, as shown in messages: "Scheduler/Hourly/Every". */
  key: string;
  /** Other spellings accepted on read (and written to, when the file uses them): VerboseMode. */
  aliases?: string[];
  codec: Codec<T>;
  /** An empty element means "use the default" (a blank destination), instead of being an error. */
  emptyIsDefault?: boolean;
  get(s: BackupSettings): T;
  set(s: BackupSettings, v: T): void;
}

/** A list as 4D writes it: <ItemsCount>N</ItemsCount><Item1>…</Item1>…<ItemN>…</ItemN>. */
export interface ListField {
  kind: "list";
  key: string;
  get(s: BackupSettings): string[];
  set(s: BackupSettings, v: string[]): void;
}

export type Field = ScalarField<any> | ListField;

const DAY = 24 * 3600;
const timeOfDay = time(DAY, "a time of day");
// A retry delay is a duration; 4D's time type goes past 24 hours, so we allow up to 999 hours.
const duration = time(1000 * 3600, "a duration");

function scalar<T>(
  key: string,
  codec: Codec<T>,
  get: (s: BackupSettings) => T,
  set: (s: BackupSettings, v: T) => void,
  extra: Partial<Pick<ScalarField<T>, "aliases" | "emptyIsDefault">> = {},
): ScalarField<T> {
  return { kind: "scalar", key, codec, get, set, ...extra };
}

const weekdayFields: Field[] = WEEKDAYS.flatMap((day) => [
  scalar(`Scheduler/Weekly/${day}/Save`, bool, (s) => s.scheduler.weekly.days[day].save, (s, v) => (s.scheduler.weekly.days[day].save = v)),
  scalar(`Scheduler/Weekly/${day}/Hour`, timeOfDay, (s) => s.scheduler.weekly.days[day].hour, (s, v) => (s.scheduler.weekly.days[day].hour = v)),
]);

export const FIELDS: Field[] = [
  // Advanced
  scalar("Advanced/BackupFailure/TryBackupAtTheNextScheduledDate", bool, (s) => s.advanced.backupFailure.tryBackupAtTheNextScheduledDate, (s, v) => (s.advanced.backupFailure.tryBackupAtTheNextScheduledDate = v)),
  scalar("Advanced/BackupFailure/TryToBackupAfter", duration, (s) => s.advanced.backupFailure.tryToBackupAfter, (s, v) => (s.advanced.backupFailure.tryToBackupAfter = v)),
  scalar("Advanced/BackupFailure/AbortIfBackupFail", bool, (s) => s.advanced.backupFailure.abortIfBackupFail, (s, v) => (s.advanced.backupFailure.abortIfBackupFail = v)),
  // 0 is accepted because 4D files may carry it while AbortIfBackupFail is off; the engine reads it as 1.
  scalar("Advanced/BackupFailure/RetryCountBeforeAbort", int(0, 9999), (s) => s.advanced.backupFailure.retryCountBeforeAbort, (s, v) => (s.advanced.backupFailure.retryCountBeforeAbort = v)),
  scalar("Advanced/AutomaticRestore", bool, (s) => s.advanced.automaticRestore, (s, v) => (s.advanced.automaticRestore = v)),
  scalar("Advanced/AutomaticLogIntegration", bool, (s) => s.advanced.automaticLogIntegration, (s, v) => (s.advanced.automaticLogIntegration = v)),
  scalar("Advanced/BackupIfDataChange", bool, (s) => s.advanced.backupIfDataChange, (s, v) => (s.advanced.backupIfDataChange = v)),
  scalar("Advanced/SetNumber/Enable", bool, (s) => s.advanced.setNumber.enable, (s, v) => (s.advanced.setNumber.enable = v)),
  scalar("Advanced/SetNumber/Value", int(1, 9999), (s) => s.advanced.setNumber.value, (s, v) => (s.advanced.setNumber.value = v)),
  scalar("Advanced/CompressionRate", oneOf(["None", "Fast", "Compact"] as const), (s) => s.advanced.compressionRate, (s, v) => (s.advanced.compressionRate = v)),
  scalar("Advanced/EraseOldBackupBefore", bool, (s) => s.advanced.eraseOldBackupBefore, (s, v) => (s.advanced.eraseOldBackupBefore = v)),
  scalar("Advanced/CheckArchiveFileDuringBackup", bool, (s) => s.advanced.checkArchiveFileDuringBackup, (s, v) => (s.advanced.checkArchiveFileDuringBackup = v)),
  // 4D's docs call it VerboseMode, the files 4D writes say BackupJournalVerboseMode.
  scalar("Advanced/BackupJournalVerboseMode", bool, (s) => s.advanced.backupJournalVerboseMode, (s, v) => (s.advanced.backupJournalVerboseMode = v), { aliases: ["Advanced/VerboseMode"] }),
  scalar("Advanced/DataLockMode", oneOf(["Snapshot", "Full"] as const), (s) => s.advanced.dataLockMode, (s, v) => (s.advanced.dataLockMode = v)),
  scalar("Advanced/UseLog", bool, (s) => s.advanced.useLog, (s, v) => (s.advanced.useLog = v)),
  // General
  scalar("General/IncludeStructureFile", bool, (s) => s.general.includeStructureFile, (s, v) => (s.general.includeStructureFile = v)),
  scalar("General/IncludeDataFile", bool, (s) => s.general.includeDataFile, (s, v) => (s.general.includeDataFile = v)),
  scalar("General/DestinationFolder", text, (s) => s.general.destinationFolder, (s, v) => (s.general.destinationFolder = v), { emptyIsDefault: true }),
  { kind: "list", key: "General/IncludesFiles", get: (s) => s.general.includesFiles, set: (s, v) => (s.general.includesFiles = v) },
  // Scheduler
  scalar("Scheduler/Frequency", oneOf(["Never", "Hourly", "Daily", "Weekly", "Monthly", "Cron"] as const), (s) => s.scheduler.frequency, (s, v) => (s.scheduler.frequency = v)),
  scalar("Scheduler/Hourly/Every", int(1, 24), (s) => s.scheduler.hourly.every, (s, v) => (s.scheduler.hourly.every = v)),
  scalar("Scheduler/Hourly/StartingAt", timeOfDay, (s) => s.scheduler.hourly.startingAt, (s, v) => (s.scheduler.hourly.startingAt = v)),
  scalar("Scheduler/Daily/Every", int(1, 999), (s) => s.scheduler.daily.every, (s, v) => (s.scheduler.daily.every = v)),
  scalar("Scheduler/Daily/Hour", timeOfDay, (s) => s.scheduler.daily.hour, (s, v) => (s.scheduler.daily.hour = v)),
  scalar("Scheduler/Weekly/Every", int(1, 999), (s) => s.scheduler.weekly.every, (s, v) => (s.scheduler.weekly.every = v)),
  ...weekdayFields,
  scalar("Scheduler/Monthly/Every", int(1, 999), (s) => s.scheduler.monthly.every, (s, v) => (s.scheduler.monthly.every = v)),
  scalar("Scheduler/Monthly/Hour", timeOfDay, (s) => s.scheduler.monthly.hour, (s, v) => (s.scheduler.monthly.hour = v)),
  scalar("Scheduler/Monthly/Day", int(1, 31), (s) => s.scheduler.monthly.day, (s, v) => (s.scheduler.monthly.day = v)),
  scalar("Scheduler/Cron", cron, (s) => s.scheduler.cron, (s, v) => (s.scheduler.cron = v)),
  scalar("Scheduler/Anchor", isoDateOrNull, (s) => s.scheduler.anchor, (s, v) => (s.scheduler.anchor = v)),
];

/** The data file path in DataBase/DatabaseName (any of Mac classic, Windows or POSIX form) → its base name. */
export function nameFromDataFilePath(p: string): string {
  const base = p.split(/[\\/:]/).filter((s) => s.trim() !== "").pop() ?? "";
  const dot = base.lastIndexOf(".");
  return (dot > 0 ? base.slice(0, dot) : base).trim();
}
