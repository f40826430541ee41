"use client";
// The tab's one event stream (spec §10): progress and outcomes arrive here once and are shared by every part of
// the page through context; an outcome refreshes the queries that show its result.
import { useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { createContext, useContext, useState } from "react";
import type { AutomationState, OperationOutcome, OperationProgress } from "@/server/trpc/root";
import type { LockState } from "@/server/locks/backup-locks";
import { useTRPC } from "./trpc";

interface StreamState {
  connected: boolean;
  running: OperationProgress | null;
  last: OperationOutcome | null;
  /** Null until the stream has sent a change: the page then shows its own query's answer. */
  automation: AutomationState | null;
  /** The backup locks (a write waits while the data lock is held); null until the stream has said. */
  locks: LockState | null;
}

const StreamContext = createContext<StreamState>({ connected: false, running: null, last: null, automation: null, locks: null });

export function EventStreamProvider({ children }: { children: React.ReactNode }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [state, setState] = useState<StreamState>({ connected: false, running: null, last: null, automation: null, locks: null });
  /**
   * Reads the views under `key` again. A first load still in flight is cancelled and restarted rather than joined
   * (invalidateQueries alone joins it, and its answer may predate the change this event reports).
   */
  const refresh = (key: QueryKey) => {
    void queryClient.cancelQueries({ queryKey: key }).then(() => queryClient.invalidateQueries({ queryKey: key }));
  };
  useSubscription(
    trpc.events.onEvents.subscriptionOptions(undefined, {
      onData(event) {
        if (event.type === "state") {
          setState((s) => ({ ...s, connected: true, running: event.running, last: event.last, locks: event.locks }));
          // What happened before the stream was (re)connected came on no stream: the views that events refresh are
          // read again (an operation can end, and its block be written, between a page's first load and the stream).
          for (const key of [trpc.backup.pathKey(), trpc.history.pathKey(), trpc.journal.pathKey()]) refresh(key);
        }
        else if (event.type === "locks") setState((s) => ({ ...s, locks: event.locks }));
        else if (event.type === "automation") setState((s) => ({ ...s, automation: event.automation }));
        else if (event.type === "progress") setState((s) => ({ ...s, connected: true, running: event.progress }));
        else if (event.type === "finished") {
          setState((s) => ({ ...s, running: null, last: event.outcome }));
          refresh(trpc.backup.pathKey());
          refresh(trpc.history.pathKey());
        } else if (event.type === "journal") {
          // A block was written (an operation ended, a postponed attempt, crash recovery): journal views refresh.
          refresh(trpc.journal.pathKey());
        }
      },
      onError() {
        setState((s) => ({ ...s, connected: false }));
      },
    }),
  );
  return <StreamContext.Provider value={state}>{children}</StreamContext.Provider>;
}

export function useEventStream(): StreamState {
  return useContext(StreamContext);
}
