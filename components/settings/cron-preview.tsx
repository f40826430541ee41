"use client";
// The cron field's preview: the expression in plain words and the next five times it fires (server's time zone).
import { useQuery } from "@tanstack/react-query";
import { useDeferredValue } from "react";
import { useTRPC } from "../trpc";

export function CronPreview({ expression }: { expression: string }) {
  const trpc = useTRPC();
  const deferred = useDeferredValue(expression.trim());
  const q = useQuery({ ...trpc.settings.cronPreview.queryOptions({ expression: deferred }), enabled: deferred !== "" });
  if (deferred === "") {
    return <p className="text-xs text-slate-500">Five fields: minute hour day-of-month month day-of-week, in the server&apos;s local time.</p>;
  }
  if (q.data?.error) return <p role="alert" className="text-xs text-red-700">{q.data.error}</p>;
  return (
    <div aria-label="Cron preview" role="region" className="text-xs text-slate-600">
      {q.data?.description && <p>{q.data.description}</p>}
      {q.data && q.data.next.length > 0 && (
        <>
          <p className="mt-1">Next runs (server time):</p>
          <ol className="ml-5 list-decimal">{q.data.next.map((d) => <li key={d}>{d}</li>)}</ol>
        </>
      )}
    </div>
  );
}
