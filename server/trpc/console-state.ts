// What a console (or a program) is told the server is doing right now: the running operation, the last outcome,
// the backup locks. One home for it, so the event stream's first state, its fallback query and BACKUP INFO agree.
import type { LockState } from "../locks/backup-locks";
import type { DatabaseContext } from "../operations/database-context";
import type { OperationOutcome, OperationProgress } from "../operations/progress";
import type { OperationRunner } from "../operations/runner";

export interface ConsoleState {
  running: OperationProgress | null;
  last: OperationOutcome | null;
  locks: LockState;
}

/**
 * The runner's state as one consistent snapshot. The runner tells its outcome (and keeps it as the last result)
 * a moment before it frees the operation's slot; a snapshot taken in between must not still show the operation as
 * running: its `finished` event has already gone, so a console would keep showing a progress panel that no event
 * will ever end.
 */
export function consoleState(runner: OperationRunner, db: DatabaseContext): ConsoleState {
  const last = runner.lastResult;
  const running = runner.running;
  return { running: running && running.operationId !== last?.operationId ? running : null, last, locks: db.locks.state() };
}
