// What a console (or a program) is told the engine is doing right now: the running operation, the last outcome,
// the backup locks. One home for it, so the event stream's first state, its fallback query and BACKUP INFO agree.
import type { LockState } from "../locks/backup-locks";
import type { BackupEngine } from "../engine/backup-engine";
import type { OperationOutcome, OperationProgress } from "../engine/progress";

export interface ConsoleState {
  running: OperationProgress | null;
  last: OperationOutcome | null;
  locks: LockState;
}

/**
 * The engine's state as one consistent snapshot. The engine tells its outcome (and keeps it as the last result)
 * a moment before it frees the operation's slot; a snapshot taken in between must not still show the operation as
 * running: its `finished` event has already gone, so a console would keep showing a progress panel that no event
 * will ever end.
 */
export function consoleState(engine: BackupEngine): ConsoleState {
  const last = engine.lastResult;
  const running = engine.running;
  return { running: running && running.operationId !== last?.operationId ? running : null, last, locks: engine.locks.state() };
}
