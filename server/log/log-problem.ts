// A log file the server could not take at start (another database's or out of step with the data file: 1416;
// damaged or unreadable: 1403), as the Backup and Data pages show it from the first moment — not only once a write
// or a backup fails — with what to do about it.
import path from "node:path";
import type { DomainError } from "../errors";
import { STATUS } from "../isomorphic/status";

export interface LogProblem {
  status: number;
  /** What is wrong, in a few words. */
  title: string;
  /** The server's own account (which file, which ids or operations). */
  text: string;
  /** What the administrator does about it. */
  whatToDo: string;
  /** What is refused meanwhile. */
  meanwhile: string;
}

const MEANWHILE = "Until then every write on the Data page and every backup is refused with this reason, so that no write goes unlogged.";

export function describeLogProblem(error: DomainError | null, logFile: string): LogProblem | null {
  if (!error) return null;
  const dataFolder = path.dirname(logFile);
  if (error.status === STATUS.FOREIGN_LOG_FILE) {
    return { status: error.status, title: "The log file does not belong to this data file (1416)", text: error.message, meanwhile: MEANWHILE,
      whatToDo: `If the data file is the right one, move ${logFile} (and its segments in Logs/Log segments, if they are that log's) out of ${dataFolder}, ` +
        "keeping them, then restart the server: a new log starts. Make a full backup right after. If the log is the right one, restore " +
        "the backup it follows and integrate it from the Restore page instead." };
  }
  return { status: error.status ?? STATUS.NO_LOG_FILE, title: "The log file is damaged or can't be read (1403)", text: error.message, meanwhile: MEANWHILE,
    whatToDo: `Keep a copy of ${logFile}, move it out of ${dataFolder} and restart the server: a new log starts (the operations written so far ` +
      "are in the data file). Make a full backup right after. To recover what a damaged log holds, restore the last backup and " +
      "integrate the log up to its damaged line from the Restore page." };
}
