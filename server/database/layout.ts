// Where things live inside a managed database folder (docs/database-folder.md#layout), and the names the same
// things have as entries of an archive (docs/archive.md#entries). Every module asks here rather than joining paths
// or spelling names itself, so the layout is written down once.
import path from "node:path";

export const SETTINGS_FILE_NAME = "Backup.4DSettings";
export const DATA_FILE_NAME = "data.sqlite";
/** The log file (JSON Lines), beside the data file. */
export const LOG_FILE_NAME = "data.journal";
/** Under Logs/: closed log segments waiting for the next log backup (Strongbox's own folder). */
export const SEGMENTS_FOLDER = "Log segments";

/** The data file as an archive entry (and where a restore puts it under its target folder). */
export const DATA_FILE_ENTRY = `Data/${DATA_FILE_NAME}`;
/** Settings kept with the data file, saved with it. */
export const DATA_SETTINGS_ENTRY = "Data/Settings";
/** The structure's folders, saved when the structure is included. */
export const STRUCTURE_FOLDERS = ["Project", "Settings"] as const;
/** What the archive holds about itself, as its last entry. */
export const MANIFEST_NAME = "manifest.json";

/** Where an attachment (an absolute path on the server) goes in an archive: `Attachments/<path without its leading slash>`. */
export function attachmentEntry(attachmentPath: string): string {
  return "Attachments/" + attachmentPath.split(path.sep).join("/").replace(/^\/+/, "").replace(/\/+$/, "");
}

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
  /** The log file (JSON Lines, docs/log-file.md). */
  logFile: string;
  /** Backup journal files. */
  logsDir: string;
  /** Closed log segments waiting for the next log backup (docs/log-file.md): Strongbox's own, inside Logs/. */
  logSegmentsDir: string;
  /** onBackupStartup / onBackupShutdown hooks (docs/operations.md#hooks). */
  hooksDir: string;
}

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
    dataFile: path.join(dataDir, DATA_FILE_NAME),
    dataSettingsDir: path.join(dataDir, "Settings"),
    logFile: path.join(dataDir, LOG_FILE_NAME),
    logsDir: path.join(root, "Logs"),
    logSegmentsDir: path.join(root, "Logs", SEGMENTS_FOLDER),
    hooksDir: path.join(projectDir, "Sources", "DatabaseMethods"),
  };
}
