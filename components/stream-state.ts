// What the tab's event stream has told, as plain data: one function per thing that can happen (an event, a change
// of the connection, a state read while reconnecting), so the rules that keep the progress panel true are in one
// place and tested without a browser.
import type { AutomationState, OperationOutcome, OperationProgress } from "@/server/trpc/root";
import type { LockState } from "@/server/locks/backup-locks";
import type { ConsoleState } from "@/server/trpc/console-state";
import type { ConsoleEvent } from "@/server/trpc/routers/events";

export interface StreamState {
  /** True only while the stream is open and has sent its state: "● Live" must never show over a stale panel. */
  connected: boolean;
  /** The stream dropped and is being reopened (the browser retries on its own). */
  reconnecting: boolean;
  running: OperationProgress | null;
  last: OperationOutcome | null;
  /** Null until the stream has sent a change: the page then shows its own query's answer. */
  automation: AutomationState | null;
  /** The backup locks (a write waits while the data lock is held); null until the stream has said. */
  locks: LockState | null;
}

export const INITIAL_STREAM_STATE: StreamState = { connected: false, reconnecting: false, running: null, last: null, automation: null, locks: null };

/** A whole state (the stream's first event, or the fallback query): an operation whose outcome is known is not running. */
export function applyState(s: StreamState, state: ConsoleState): StreamState {
  const running = state.running && state.running.operationId !== state.last?.operationId ? state.running : null;
  return { ...s, running, last: state.last, locks: state.locks };
}

export function applyEvent(s: StreamState, event: ConsoleEvent): StreamState {
  switch (event.type) {
    case "state": return { ...applyState(s, event), connected: true, reconnecting: false };
    case "locks": return { ...s, locks: event.locks };
    case "automation": return { ...s, automation: event.automation };
    // Progress of an operation whose outcome is already known (read while the stream was down) is old news.
    case "progress": return s.last?.operationId === event.progress.operationId ? s : { ...s, running: event.progress };
    case "finished": return { ...s, running: s.running?.operationId === event.outcome.operationId ? null : s.running, last: event.outcome };
    default: return s;
  }
}

/**
 * The stream's connection as tRPC reports it: "connecting" when it dropped and is reopened (nothing arrives until
 * then, and the state it sends first replaces what is shown), "pending" once open, "idle" when it has ended.
 */
export function applyConnection(s: StreamState, state: "connecting" | "pending" | "idle"): StreamState {
  if (state === "pending") return s; // open, but "● Live" waits for its first state
  return { ...s, connected: false, reconnecting: state === "connecting" && (s.connected || s.reconnecting) };
}
