"use client";
// Backup & Restore tab (4D's Backup/Backup & Restore page) plus our data lock mode and log file switch.
import { useState } from "react";
import { Check, Group, Hint, NumberField, SelectField, type Draft, type Edit } from "./controls";

const UNITS = { seconds: 1, minutes: 60, hours: 3600 } as const;
type Unit = keyof typeof UNITS;

/** The unit a delay reads best in: whole hours in hours, whole minutes in minutes, anything else (4D's 0.561) in seconds. */
const unitOf = (seconds: number): Unit => (seconds > 0 && seconds % 3600 === 0 ? "hours" : seconds > 0 && seconds % 60 === 0 ? "minutes" : "seconds");

export function BackupRestoreTab({ draft, edit }: { draft: Draft; edit: Edit }) {
  const a = draft.advanced;
  const f = a.backupFailure;
  // The file holds seconds, to the millisecond; shown in the unit chosen, without rounding (a value left alone is
  // sent back exactly as the file has it, so the file keeps it byte for byte).
  const [unit, setUnit] = useState<Unit>(unitOf(f.tryToBackupAfter));
  const delay = Number.isFinite(f.tryToBackupAfter) ? Number((f.tryToBackupAfter / UNITS[unit]).toPrecision(12)) : NaN;
  return (
    <div className="space-y-5">
      <Group legend="General settings">
        <div className="flex flex-wrap items-center gap-3">
          <Check label="Keep only the last backup files" checked={a.setNumber.enable} onChange={(v) => edit((d) => { d.advanced.setNumber.enable = v; })} />
          <NumberField label="Backup files to keep" min={1} max={9999} value={a.setNumber.value} disabled={!a.setNumber.enable} path="advanced.setNumber.value"
            onChange={(v) => edit((d) => { d.advanced.setNumber.value = v; })} />
        </div>
        <Check label="Erase the oldest backup before writing the new one (otherwise after)" checked={a.eraseOldBackupBefore}
          onChange={(v) => edit((d) => { d.advanced.eraseOldBackupBefore = v; })} />
        <Check label="Back up only if the data file has been modified" checked={a.backupIfDataChange} onChange={(v) => edit((d) => { d.advanced.backupIfDataChange = v; })} />
        <SelectField label="Compression rate" value={a.compressionRate} options={[["None", "None"], ["Fast", "Fast"], ["Compact", "Compact"]]}
          onChange={(v) => edit((d) => { d.advanced.compressionRate = v; })} />
        <Hint>
          Kept but not used: 4D&apos;s segmentation (FileSegmentation/DefaultSize), Redundancy and Interlacing. A settings file that holds them keeps
          them as they are, but each backup is written as one archive file, never cut into segments, with no redundancy or interlacing.
        </Hint>
        <Check label="Check the archive during backup" checked={a.checkArchiveFileDuringBackup} onChange={(v) => edit((d) => { d.advanced.checkArchiveFileDuringBackup = v; })} />
        <Check label="Verbose backup journal" checked={a.backupJournalVerboseMode} onChange={(v) => edit((d) => { d.advanced.backupJournalVerboseMode = v; })} />
        <SelectField label="Data lock mode" value={a.dataLockMode}
          options={[["Snapshot", "Snapshot — writes wait only while the data file is snapshot"], ["Full", "Full — writes wait for the whole backup (as 4D Server)"]]}
          onChange={(v) => edit((d) => { d.advanced.dataLockMode = v; })} />
        <Check label="Use the log file" checked={a.useLog} onChange={(v) => edit((d) => { d.advanced.useLog = v; })} />
      </Group>

      <Group legend="Backup failure">
        <label className="flex items-center gap-2 text-sm">
          <input type="radio" name="retry" checked={f.tryBackupAtTheNextScheduledDate} onChange={() => edit((d) => { d.advanced.backupFailure.tryBackupAtTheNextScheduledDate = true; })} />
          Try again at the next scheduled date
        </label>
        <div className="flex flex-wrap items-center gap-3">
          <label className="flex items-center gap-2 text-sm">
            <input type="radio" name="retry" checked={!f.tryBackupAtTheNextScheduledDate} onChange={() => edit((d) => { d.advanced.backupFailure.tryBackupAtTheNextScheduledDate = false; })} />
            Try again after a delay
          </label>
          <NumberField label="Retry delay" min={0} step="any" value={delay} disabled={f.tryBackupAtTheNextScheduledDate} path="advanced.backupFailure.tryToBackupAfter"
            onChange={(v) => edit((d) => { d.advanced.backupFailure.tryToBackupAfter = v * UNITS[unit]; })}>
            <SelectField label="Retry delay unit" value={unit} options={[["seconds", "seconds"], ["minutes", "minutes"], ["hours", "hours"]]}
              onChange={(u) => { setUnit(u); edit((d) => { d.advanced.backupFailure.tryToBackupAfter = delay * UNITS[u]; }); }} />
          </NumberField>
        </div>
        <div className="flex flex-wrap items-center gap-3">
          <Check label="Keep retrying, then abort after a number of failed attempts" checked={f.abortIfBackupFail} onChange={(v) => edit((d) => { d.advanced.backupFailure.abortIfBackupFail = v; })} />
          <NumberField label="Failed attempts before aborting" min={0} max={9999} value={f.retryCountBeforeAbort} disabled={!f.abortIfBackupFail} path="advanced.backupFailure.retryCountBeforeAbort"
            onChange={(v) => edit((d) => { d.advanced.backupFailure.retryCountBeforeAbort = v; })} />
        </div>
        <Hint>After that many failed attempts: error 1401, and automatic backups stay off until the server restarts or a manual backup succeeds.</Hint>
      </Group>

      <Group legend="Automatic restore">
        <Check label="Restore the last backup if the database is damaged" checked={a.automaticRestore} onChange={(v) => edit((d) => { d.advanced.automaticRestore = v; })} />
        <Check label="Integrate the last log file if the database is incomplete" checked={a.automaticLogIntegration}
          onChange={(v) => edit((d) => { d.advanced.automaticLogIntegration = v; })} />
      </Group>
    </div>
  );
}
