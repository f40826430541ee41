// Why an operation was stopped. The abort signal of a running operation carries it as its reason, so that the
// operation ends with the right status: a user's Stop is 1406 (never retried), the server shutting down is 1409,
// "backup impossible" (the failure policy retries or alerts it like any other failure).
import { DomainError, isDomainError } from "../errors";
import { STATUS, statusText } from "../isomorphic/status";
import type { TaskKind } from "../isomorphic/phases";

export type StopCause = "user" | "shutdown";

const OPERATION_NAME: Record<TaskKind, string> = {
  backup: "backup", logIntegration: "log integration", restore: "restore", restoreInPlace: "restore", verify: "verification",
};

/** The abort reason a Stop gives the running operation. */
export function stopReason(cause: StopCause, kind: TaskKind): DomainError {
  return cause === "shutdown"
    ? new DomainError(STATUS.BACKUP_ERROR, `The ${OPERATION_NAME[kind]} was interrupted because the server was shutting down.`)
    : new DomainError(STATUS.CANCELED_BY_USER);
}

/**
 * What an operation whose signal was aborted ends with: the status its stop reason carries. `userText` says what a
 * Stop left behind (e.g. "nothing changed"); it is the whole text of a user's Stop and is added to a shutdown's.
 */
export function stoppedError(signal: AbortSignal, userText?: string): DomainError {
  const reason: unknown = signal.reason;
  if (isDomainError(reason) && reason.status !== STATUS.CANCELED_BY_USER) {
    return userText ? new DomainError(reason.status, `${reason.message} ${userText}`) : reason;
  }
  return new DomainError(STATUS.CANCELED_BY_USER, userText ?? statusText(STATUS.CANCELED_BY_USER));
}
