// The console's one event bus, owned by the services: operations' progress and outcomes (the runner), journal
// blocks written (the journal), backup locks taken and let go (the locks), automatic backups' state (automation).
// Every open console (each tab's event stream) listens to it; nothing else is an event bus.
import { EventEmitter } from "node:events";
import type { LockState } from "../locks/backup-locks";
import type { AutomationState, OperationOutcome, OperationProgress } from "./progress";

export type ConsoleEvent =
  | { type: "progress"; progress: OperationProgress }
  | { type: "finished"; outcome: OperationOutcome }
  | { type: "automation"; automation: AutomationState }
  /** A block was written to the backup journal (by any operation, a postponed attempt or crash recovery). */
  | { type: "journal"; file: string }
  /** The backup locks changed (taken, released, a write started or stopped waiting): the Data page's dialog. */
  | { type: "locks"; locks: LockState };

export class ConsoleBus extends EventEmitter<{ event: [ConsoleEvent] }> {
  constructor() {
    super();
    // One listener per open console (each tab's event stream): no fixed limit applies.
    this.setMaxListeners(0);
  }

  publish(event: ConsoleEvent): void {
    this.emit("event", event);
  }
}
