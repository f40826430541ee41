"use client";
// The tab's one event stream (docs/console.md): progress and outcomes arrive here once and are shared by every part of
// the page through context; an outcome refreshes the queries that show its result. While the stream is down the
// same state is read every second, so an operation that ends meanwhile shows its outcome at once.
import { useQuery, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { createContext, useContext, useEffect, useState } from "react";
import { applyConnection, applyEvent, applyState, INITIAL_STREAM_STATE, type StreamState } from "./stream-state";
import { useTRPC } from "./trpc";

export type { StreamState } from "./stream-state";

const StreamContext = createContext<StreamState>(INITIAL_STREAM_STATE);

/** How often the state is read while the stream is down. */
const FALLBACK_POLL_MS = 1_000;
/** How long after a stream ended with an error it is opened again. */
const RESUBSCRIBE_MS = 3_000;

export function EventStreamProvider({ children }: { children: React.ReactNode }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [state, setState] = useState<StreamState>(INITIAL_STREAM_STATE);
  /**
   * Reads the views under `key` again. A first load still in flight is cancelled and restarted rather than joined
   * (invalidateQueries alone joins it, and its answer may predate the change this event reports).
   */
  const refresh = (key: QueryKey) => {
    void queryClient.cancelQueries({ queryKey: key }).then(() => queryClient.invalidateQueries({ queryKey: key }));
  };
  const subscription = useSubscription(
    trpc.events.onEvents.subscriptionOptions(undefined, {
      onData(event) {
        setState((s) => applyEvent(s, event));
        if (event.type === "state") {
          // What happened before the stream was (re)connected came on no stream: the views that events refresh are
          // read again (an operation can end, and its block be written, between a page's first load and the stream).
          for (const key of [trpc.backup.pathKey(), trpc.history.pathKey(), trpc.journal.pathKey()]) refresh(key);
        } else if (event.type === "finished") {
          refresh(trpc.backup.pathKey());
          refresh(trpc.history.pathKey());
        } else if (event.type === "journal") {
          // A block was written (an operation ended, a postponed attempt, crash recovery): journal views refresh.
          refresh(trpc.journal.pathKey());
        }
      },
      onConnectionStateChange(result) {
        setState((s) => applyConnection(s, result.state));
      },
      onError() {
        setState((s) => applyConnection(s, "idle"));
      },
    }),
  );
  // A stream that ended with an error (refused while the server restarts, say) is not retried by tRPC: open it again.
  const failed = subscription.status === "error";
  useEffect(() => {
    if (!failed) return;
    const t = setTimeout(() => subscription.reset(), RESUBSCRIBE_MS);
    return () => clearTimeout(t);
  }, [failed]); // eslint-disable-line react-hooks/exhaustive-deps
  // While the stream is down and an operation was running, its state is read instead of waited for.
  const fallback = useQuery(trpc.events.state.queryOptions(undefined, {
    enabled: !state.connected && state.running !== null, refetchInterval: FALLBACK_POLL_MS, staleTime: 0, gcTime: 0,
  }));
  const polled = fallback.data;
  useEffect(() => {
    if (!polled || state.connected) return;
    if (polled.last && polled.last.operationId !== state.last?.operationId) {
      refresh(trpc.backup.pathKey());
      refresh(trpc.history.pathKey());
    }
    setState((s) => applyState(s, polled));
  }, [fallback.dataUpdatedAt]); // eslint-disable-line react-hooks/exhaustive-deps
  return <StreamContext.Provider value={state}>{children}</StreamContext.Provider>;
}

export function useEventStream(): StreamState {
  return useContext(StreamContext);
}
