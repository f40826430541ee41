// The one mapping from whatever ended an operation to the status it is recorded with (docs/status-codes.md). The
// abort signal of a running operation carries why it was stopped as its reason: a user's Stop is 1406 (never
// retried), the server shutting down is 1409, "backup impossible", which the failure policy retries like any other
// failure.
import { DomainError, isDomainError } from "../errors";
import { isUnsafeFileError } from "../fs/safe-open";
import { STATUS, statusText, type StatusCode } from "../isomorphic/status";

/** A DomainError with a status: what an operation that failed is recorded with. */
export type StatusError = DomainError & { readonly status: StatusCode };

export type StopCause = "user" | "shutdown";

/** The abort reason a Stop gives the running operation; `name` is the operation's ("backup", "restore"…). */
export function stopReason(cause: StopCause, name: string): StatusError {
  return (cause === "shutdown"
    ? new DomainError(STATUS.BACKUP_ERROR, `The ${name} was interrupted because the server was shutting down.`)
    : new DomainError(STATUS.CANCELED_BY_USER)) as StatusError;
}

/**
 * What an operation whose signal was aborted ends with: the status its stop reason carries. `userText` says what a
 * Stop left behind (e.g. "nothing changed"); it is the whole text of a user's Stop and is added to a shutdown's.
 */
export function stoppedError(signal: AbortSignal, userText?: string): StatusError {
  const reason: unknown = signal.reason;
  if (isDomainError(reason) && reason.status !== null && reason.status !== STATUS.CANCELED_BY_USER) {
    return (userText ? new DomainError(reason.status, `${reason.message} ${userText}`) : reason) as StatusError;
  }
  return new DomainError(STATUS.CANCELED_BY_USER, userText ?? statusText(STATUS.CANCELED_BY_USER)) as StatusError;
}

export interface FailureWording {
  /** The operation's name in a sentence: "backup", "restore", "log integration"… */
  name: string;
  /** What a Stop left behind (see stoppedError). */
  stoppedText?: string;
}

/**
 * Any error that ended an operation, as the status and text it is recorded with: the stop's reason when the
 * operation was stopped; a DomainError as it is (1409 when it has no status); a link or FIFO where the server keeps
 * its own file with its message; a full disk or another system error with its code; anything else (a bug) as 1409
 * with its message, and printed with its stack on the server's output.
 */
export function toOperationError(err: unknown, signal: AbortSignal, wording: FailureWording): StatusError {
  if (signal.aborted) return stoppedError(signal, wording.stoppedText);
  if (isDomainError(err)) return (err.status === null ? new DomainError(STATUS.BACKUP_ERROR, err.message, { cause: err }) : err) as StatusError;
  const fail = (text: string) => new DomainError(STATUS.BACKUP_ERROR, text, { cause: err }) as StatusError;
  if (isUnsafeFileError(err)) return fail(err.message);
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code === "ENOSPC") return fail(`Disk full during the ${wording.name}: ${e.message}`);
  if (typeof e?.code === "string" && /^E[A-Z]+$/.test(e.code)) return fail(`I/O error during the ${wording.name} (${e.code}): ${e.message}`);
  console.error(`[strongbox] the ${wording.name} failed unexpectedly:`, err);
  return fail(`The ${wording.name} failed: ${e?.message ?? String(err)}`);
}
