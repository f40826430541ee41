"use client";
// Automatic backups on the Backup page (docs/operations.md, docs/console.md): alerts shown until acknowledged — the same alert raised again
// and again shown once with its count, first and last time, and all acknowledged at once if wished — a pending
// retry with its time and a way to cancel it, and automatic backups turned off after 1401.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useEventStream } from "../event-stream";
import { useTRPC } from "../trpc";
import { formatDate } from "../format";
import { plural } from "@/server/isomorphic/plural";

export function AutomationPanel({ canOperate }: { canOperate: boolean }) {
  const trpc = useTRPC();
  const stream = useEventStream();
  const query = useQuery(trpc.automation.state.queryOptions());
  const state = stream.automation ?? query.data;
  const cancel = useMutation(trpc.automation.cancelRetry.mutationOptions({ onSuccess: () => void query.refetch() }));
  const ack = useMutation(trpc.automation.acknowledge.mutationOptions({ onSuccess: () => void query.refetch() }));
  const ackAll = useMutation(trpc.automation.acknowledgeAll.mutationOptions({ onSuccess: () => void query.refetch() }));
  if (!state) return null;
  const total = state.alerts.reduce((n, a) => n + a.count, 0);
  return (
    <>
      {total > 1 && canOperate && (
        <div className="flex items-center gap-3 text-sm text-red-900">
          <span>{plural(total, "backup alert")} to acknowledge</span>
          <button type="button" onClick={() => ackAll.mutate()} disabled={ackAll.isPending}
            className="rounded border border-red-300 bg-white px-3 py-1 hover:bg-red-100">Acknowledge all</button>
        </div>
      )}
      {state.alerts.map((a) => (
        <div key={a.ids[0]} role="alert" className="flex flex-wrap items-center gap-3 rounded border border-red-300 bg-red-50 px-4 py-3 text-red-900">
          <span className="min-w-0 flex-1 break-words">
            <strong>Backup alert</strong>{" "}
            {a.count === 1 ? `(${formatDate(a.lastAt)})` : `(${plural(a.count, "time")}, first ${formatDate(a.firstAt)}, last ${formatDate(a.lastAt)})`}:{" "}
            {a.status} — {a.text}
            {a.scheduledDate ? ` (scheduled for ${formatDate(a.scheduledDate)})` : ""}
          </span>
          {canOperate && (
            <button type="button" onClick={() => ack.mutate({ ids: a.ids })}
              className="ml-auto rounded border border-red-300 bg-white px-3 py-1 text-sm hover:bg-red-100">Acknowledge</button>
          )}
        </div>
      ))}
      {state.disabled && (
        <p role="alert" className="rounded border border-red-300 bg-red-50 px-4 py-3 text-red-900">
          Automatic backups are off since {formatDate(state.disabled.since)}: {state.disabled.text}. They come back on
          when the server restarts or a manual backup succeeds.
        </p>
      )}
      {state.pendingRetry && (
        <section aria-label="Pending retry" className="flex flex-wrap items-center gap-3 rounded border border-amber-300 bg-amber-50 px-4 py-3 text-amber-900">
          <span>
            A failed backup will be tried again at <strong>{formatDate(state.pendingRetry.at)}</strong> (attempt {state.pendingRetry.attempt}).
            Last error: {state.pendingRetry.reason}
          </span>
          {canOperate && (
            <button type="button" onClick={() => cancel.mutate()}
              className="ml-auto rounded border border-amber-400 bg-white px-3 py-1 text-sm hover:bg-amber-100">Cancel retry</button>
          )}
        </section>
      )}
    </>
  );
}
