// What happens after an automatic backup fails (docs/operations.md, BackupFailure settings): a plain function so that every
// case is tested without clocks or timers.
import { MIN_RETRY_SECONDS } from "../settings/defaults";
import type { BackupSettings } from "../settings/model";
import { STATUS } from "../isomorphic/status";

export type FailureKind = "success" | "canceled" | "impossible";

/** A user Stop and a startup hook's cancel are never retried; partial backups kept their archive: a success. */
export function classify(status: number, partial: boolean): FailureKind {
  if (status === STATUS.OK || partial) return "success";
  if (status === STATUS.CANCELED_BY_USER || !KNOWN_FAILURES.has(status)) return "canceled";
  return "impossible";
}

const KNOWN_FAILURES = new Set<number>([
  STATUS.MAX_ATTEMPTS, STATUS.NO_LOG_FILE, STATUS.TRANSACTIONS_TIMEOUT, STATUS.DESTINATION_INVALID,
  STATUS.LOG_BACKUP_ERROR, STATUS.BACKUP_ERROR, STATUS.ARCHIVE_CHECK_FAILED, STATUS.FOREIGN_LOG_FILE,
  STATUS.LOG_INTEGRATION_RUNNING, STATUS.BACKUP_IN_PROGRESS,
]);

export { MIN_RETRY_SECONDS };

export type FailureDecision =
  | { kind: "retry"; at: Date; alert: boolean }
  | { kind: "alert" }
  | { kind: "abort" };

/**
 * `failures` counts the consecutive failed automatic attempts, this one included. By default one more attempt is
 * made; when it fails too, an alert. With AbortIfBackupFail, attempts go on until RetryCountBeforeAbort have
 * failed, then 1401 and automatic backups stop (the caller's job).
 */
export function decideAfterFailure(failures: number, policy: BackupSettings["advanced"]["backupFailure"], now: Date, nextScheduled: Date | null): FailureDecision {
  const retryAt = policy.tryBackupAtTheNextScheduledDate && nextScheduled
    ? nextScheduled
    : new Date(now.getTime() + Math.max(MIN_RETRY_SECONDS, policy.tryToBackupAfter) * 1000);
  if (policy.abortIfBackupFail) {
    if (failures >= Math.max(1, policy.retryCountBeforeAbort)) return { kind: "abort" };
    return { kind: "retry", at: retryAt, alert: failures >= 2 };
  }
  return failures === 1 ? { kind: "retry", at: retryAt, alert: false } : { kind: "alert" };
}
