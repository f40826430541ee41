// Where things live inside a managed database folder (spec §1). Every module asks here rather than joining
// paths itself, so the layout is written down once.
import path from "node:path";

export interface DatabaseLayout {
  databaseDir: string;
  /** Structure: the application's project files. */
  projectDir: string;
  settingsDir: string;
  /** Settings/Backup.4DSettings */
  settingsFile: string;
  dataDir: string;
  /** The data file: a SQLite database in WAL mode. */
  dataFile: string;
  /** Settings kept with the data file (saved with the data). */
  dataSettingsDir: string;
  /** The log file (JSON Lines, spec §9). */
  logFile: string;
  /** Backup journal files. */
  logsDir: string;
  /** Closed log segments waiting for the next log backup (spec §9): Strongbox's own, inside Logs/. */
  logSegmentsDir: string;
  /** onBackupStartup / onBackupShutdown hooks (spec §8). */
  hooksDir: string;
}

export const SETTINGS_FILE_NAME = "Backup.4DSettings";

export function databaseLayout(databaseDir: string): DatabaseLayout {
  const root = path.resolve(databaseDir);
  const projectDir = path.join(root, "Project");
  const settingsDir = path.join(root, "Settings");
  const dataDir = path.join(root, "Data");
  return {
    databaseDir: root,
    projectDir,
    settingsDir,
    settingsFile: path.join(settingsDir, SETTINGS_FILE_NAME),
    dataDir,
    dataFile: path.join(dataDir, "data.sqlite"),
    dataSettingsDir: path.join(dataDir, "Settings"),
    logFile: path.join(dataDir, "data.journal"),
    logsDir: path.join(root, "Logs"),
    logSegmentsDir: path.join(root, "Logs", "Log segments"),
    hooksDir: path.join(projectDir, "Sources", "DatabaseMethods"),
  };
}
