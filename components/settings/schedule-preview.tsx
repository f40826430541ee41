"use client";
// The Scheduler tab's preview, for every frequency: the next five times the schedule being edited would run, in the
// server's time zone (the one schedules run in), and a Cron expression in plain words. Worked out by the server as
// the save would leave it (the anchor included).
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useDeferredValue } from "react";
import { useTRPC } from "../trpc";
import type { Draft } from "./controls";

export function SchedulePreview({ scheduler }: { scheduler: Draft["scheduler"] }) {
  const trpc = useTRPC();
  const deferred = useDeferredValue(scheduler);
  const cronEmpty = deferred.frequency === "Cron" && deferred.cron.trim() === "";
  const q = useQuery({ ...trpc.settings.schedulePreview.queryOptions({ scheduler: deferred }), enabled: deferred.frequency !== "Never" && !cronEmpty, placeholderData: keepPreviousData });
  if (scheduler.frequency === "Never") return null;
  if (cronEmpty) {
    return <p className="text-xs text-slate-500">Five fields: minute hour day-of-month month day-of-week, in the server&apos;s local time.</p>;
  }
  if (q.data?.error) return <p role="alert" className="text-xs text-red-700">{q.data.error}</p>;
  return (
    <div aria-label="Schedule preview" role="region" className="text-xs text-slate-600">
      {q.data?.description && <p>{q.data.description}</p>}
      {q.data && (q.data.next.length > 0 ? (
        <>
          <p className="mt-1">Next runs (server time):</p>
          <ol className="ml-5 list-decimal">{q.data.next.map((d) => <li key={d}>{d}</li>)}</ol>
        </>
      ) : <p className="mt-1">This schedule never runs (no day is ticked).</p>)}
    </div>
  );
}
