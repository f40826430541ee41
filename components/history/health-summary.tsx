"use client";
// The top of the History page: time since the last successful backup (flagged when the schedule's promise was not
// kept), the success rate over the kept backups, and the last backup's status.
import { useEffect, useState } from "react";
import type { HistorySummary } from "@/server/history/history-view";
import { formatDate } from "../format";
import { formatSpan, OUTCOME_TEXT } from "./history-format";

/** The browser's clock, ticking so the age stays current between refreshes. */
function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

function Tile({ title, tone = "plain", children }: { title: string; tone?: "plain" | "amber" | "red"; children: React.ReactNode }) {
  const tones = { plain: "border-slate-200 bg-white", amber: "border-amber-300 bg-amber-50", red: "border-red-300 bg-red-50" };
  return (
    <section aria-label={title} className={`rounded-lg border p-5 shadow-sm ${tones[tone]}`}>
      <h2 className="mb-2 text-sm font-semibold text-slate-600">{title}</h2>
      {children}
    </section>
  );
}

/** `fetchedAt`: when the summary was computed on the server's side, so the age can tick in the browser. */
export function HealthSummary({ summary, fetchedAt }: { summary: HistorySummary; fetchedAt: number }) {
  const now = useNow(15_000);
  const { lastSuccess, lastBackup, successRate, schedule, kept } = summary;
  const overdue = schedule.state === "overdue";
  // Possibly postponed (BackupIfDataChange) is a warning, not an alarm: nothing may have changed to back up.
  const tone = overdue ? (schedule.mayHaveBeenPostponed ? "amber" : "red") : "plain";
  const age = lastSuccess ? lastSuccess.ageMs + Math.max(0, now - fetchedAt) : null;
  return (
    <div className="grid gap-4 md:grid-cols-3">
      <Tile title="Last successful backup" tone={tone}>
        {lastSuccess && age !== null ? (
          <>
            <p className="text-2xl font-semibold">{formatSpan(age)} ago</p>
            <p className="text-sm text-slate-600">Backup #{lastSuccess.number}, {formatDate(lastSuccess.at)}</p>
          </>
        ) : <p className="text-lg font-semibold">No successful backup yet</p>}
        <ScheduleLine summary={summary} />
      </Tile>

      <Tile title="Success rate">
        {successRate.percent === null ? <p className="text-lg font-semibold">—</p> : (
          <p className="text-2xl font-semibold">{successRate.percent}%</p>
        )}
        <p className="text-sm text-slate-600">
          {successRate.backups === 0
            ? "No backups kept in the history yet."
            : `${successRate.succeeded} of ${successRate.backups} backup${successRate.backups > 1 ? "s" : ""} succeeded`
              + (successRate.partial ? `, ${successRate.partial} partial` : "") + (successRate.failed ? `, ${successRate.failed} failed` : "")
              + ` — over the backups kept in backupHistory.json${kept.oldestStart ? ` (since ${formatDate(kept.oldestStart)})` : ""}.`}
        </p>
      </Tile>

      <Tile title="Last backup status">
        {lastBackup ? (
          <>
            <p className={`text-lg font-semibold ${OUTCOME_TEXT[lastBackup.outcome]}`}>
              {lastBackup.outcome === "success" ? "Succeeded" : lastBackup.outcome === "partial" ? "Partial" : "Failed"}
            </p>
            <p className="text-sm">{lastBackup.status} — {lastBackup.statusText}</p>
            <p className="text-sm text-slate-600">Backup #{lastBackup.number}, {formatDate(lastBackup.at)}</p>
          </>
        ) : <p className="text-lg font-semibold">—</p>}
      </Tile>
    </div>
  );
}

function ScheduleLine({ summary: { schedule } }: { summary: HistorySummary }) {
  switch (schedule.state) {
    case "noSchedule":
      return <p className="mt-2 text-sm text-slate-600">No schedule: automatic backups are off (Frequency: Never).</p>;
    case "unknown":
      return <p className="mt-2 text-sm text-slate-600">Schedule ({schedule.frequency}): {schedule.reason}</p>;
    case "ok":
      return <p className="mt-2 text-sm text-slate-600">On schedule ({schedule.frequency}); next backup promised {formatDate(schedule.promisedAt)}.</p>;
    case "overdue":
      return (
        <p role="alert" className={`mt-2 text-sm font-medium ${schedule.mayHaveBeenPostponed ? "text-amber-900" : "text-red-800"}`}>
          Overdue: the schedule promised a backup at {formatDate(schedule.promisedAt)}
          {schedule.lateByMs !== null ? ` (${formatSpan(schedule.lateByMs)} ago)` : ""} and none has succeeded since.
          {schedule.mayHaveBeenPostponed ? " “Backup only if the data file has been modified” is on, so it may have been postponed because nothing changed: the Journal says." : ""}
        </p>
      );
  }
}
