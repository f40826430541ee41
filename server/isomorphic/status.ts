// Status codes (4D's numbers where 4D has one; see docs/status-codes.md) and their plain-English texts. Isomorphic:
// the console's pages read them too (no Node imports here).

export const STATUS = {
  OK: 0,
  MAX_ATTEMPTS: 1401,
  NO_LOG_FILE: 1403,
  TRANSACTIONS_TIMEOUT: 1405,
  CANCELED_BY_USER: 1406,
  DESTINATION_INVALID: 1407,
  LOG_BACKUP_ERROR: 1408,
  BACKUP_ERROR: 1409,
  ARCHIVE_CHECK_FAILED: 1411,
  FOREIGN_LOG_FILE: 1416,
  LOG_INTEGRATION_RUNNING: 1417,
  BACKUP_IN_PROGRESS: -9976,
} as const;

export type StatusCode = number;

const TEXTS: Record<number, string> = {
  0: "OK",
  1401: "Maximum number of backup attempts reached; automatic backup is disabled",
  1403: "No log file",
  1405: "Timeout waiting for open transactions to end",
  1406: "Backup canceled by user",
  1407: "Destination folder not valid",
  1408: "Error during log file backup",
  1409: "Error during backup",
  1411: "Archive check failed",
  1416: "Log file does not belong to this database",
  1417: "Log integration running",
  [-9976]: "This command cannot be executed because the database backup is in progress",
};

/** Plain-English text of a status; a startup hook's own value gets a generic text. */
export function statusText(code: StatusCode): string {
  return TEXTS[code] ?? `Canceled by the On Backup Startup hook (returned ${code})`;
}
