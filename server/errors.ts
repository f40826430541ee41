// The domain's one error type: what happened, to what, and what to do (its message), with the status code it
// stands for (docs/status-codes.md) when it has one, and the transport code a request that meets it gets. Thin
// subclasses (DataError, UserError, SettingsFileError…) only fix the code; every check goes through isDomainError.
import { statusText, STATUS, type StatusCode } from "./isomorphic/status";

/** How a request that meets the error is answered (tRPC's codes; route handlers turn them into HTTP statuses). */
export type TransportCode =
  | "BAD_REQUEST" | "CONFLICT" | "NOT_FOUND" | "FORBIDDEN" | "UNAUTHORIZED" | "PRECONDITION_FAILED"
  | "PAYLOAD_TOO_LARGE" | "SERVICE_UNAVAILABLE" | "INTERNAL_SERVER_ERROR";

/**
 * The brand that marks a DomainError. A registered symbol, not instanceof: Next bundles instrumentation and the
 * route handlers as separate entries, so the class that threw need not be the class a router sees.
 */
const BRAND = Symbol.for("strongbox.DomainError");

export interface DomainErrorOptions {
  /** Default: CONFLICT for -9976 (another operation holds the slot), BAD_REQUEST otherwise. */
  code?: TransportCode;
  cause?: unknown;
}

export class DomainError extends Error {
  /** A status code (a failed operation records it), or null for an error that has none (a bad name, a missing row). */
  readonly status: StatusCode | null;
  readonly code: TransportCode;

  constructor(status: StatusCode | null, message?: string, options: DomainErrorOptions = {}) {
    super(message ?? (status === null ? "Error" : statusText(status)), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DomainError";
    this.status = status;
    this.code = options.code ?? (status === STATUS.BACKUP_IN_PROGRESS ? "CONFLICT" : "BAD_REQUEST");
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** True for a DomainError (or a subclass) from any copy of this module. */
export function isDomainError(err: unknown): err is DomainError {
  return typeof err === "object" && err !== null && (err as Record<symbol, unknown>)[BRAND] === true;
}
