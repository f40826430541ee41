"use client";
// The History page (docs/console.md): whether backups are healthy at a glance (time since the last success, flagged when
// the schedule's promise was not kept; success rate; last status), duration and size over time, and every operation
// of backupHistory.json with its details. The tab's event stream refreshes it when an operation ends.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { useTRPC } from "../trpc";
import { Card } from "../backup/card";
import { HealthSummary } from "./health-summary";
import { HistoryChart } from "./history-chart";
import { OperationDetails } from "./operation-details";
import { OperationsTable, PAGE_SIZE } from "./operations-table";

/** The age ticks in the browser; the overdue judgement is the server's, asked again this often. */
const SUMMARY_REFRESH_MS = 60_000;

export function HistoryPage() {
  const trpc = useTRPC();
  const detailsId = useId();
  const [offset, setOffset] = useState(0);
  const [selected, setSelected] = useState<string | null>(null);
  const summary = useQuery(trpc.history.summary.queryOptions(undefined, { refetchInterval: SUMMARY_REFRESH_MS }));
  const list = useQuery(trpc.history.list.queryOptions({ offset, limit: PAGE_SIZE }, { placeholderData: keepPreviousData }));
  const s = summary.data;
  const problem = s?.problem ?? list.data?.problem ?? null;
  const empty = s?.summary?.kept.operations === 0;

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-baseline gap-4">
        <h1 className="text-2xl font-semibold">History</h1>
        {s?.historyPath && <span className="break-all text-sm text-slate-600">{s.historyPath}</span>}
      </div>

      {problem && <p role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-800">{problem}</p>}
      {summary.error && <p role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-800">The history can't be shown: {summary.error.message}</p>}
      {s?.damaged && (
        <p role="alert" className="rounded border border-amber-300 bg-amber-50 px-4 py-3 text-amber-900">
          {s.damaged.reason}. It was kept as {s.damaged.keptAs} and rebuilt from the archives&apos; manifests.
        </p>
      )}

      {summary.isLoading ? <p className="text-sm text-slate-600">Loading…</p> : s?.summary && (
        <HealthSummary summary={s.summary} fetchedAt={summary.dataUpdatedAt} />
      )}

      {empty ? (
        <section aria-label="No operations" className="rounded-lg border border-slate-200 bg-white p-5 text-sm text-slate-700 shadow-sm">
          No backups yet: backupHistory.json has no operation of this database. Backups appear here as they run — start one
          from the Backup page, or set a schedule in Settings.
        </section>
      ) : (
        <>
          {s?.chart && (
            <Card title="Duration and archive size over time">
              <HistoryChart points={s.chart.points} backups={s.chart.backups} />
            </Card>
          )}
          {list.error && <p role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-800">The operations can't be listed: {list.error.message}</p>}
          {list.data && !list.data.problem && (
            <section aria-label="Operations" className="space-y-2">
              <h2 className="text-base font-semibold">Operations</h2>
              <OperationsTable operations={list.data.operations} total={list.data.total} offset={list.data.offset} onOffset={setOffset}
                selectedId={selected} onSelect={setSelected} detailsId={detailsId} />
            </section>
          )}
          {selected && <OperationDetails key={selected} id={selected} panelId={detailsId} onClose={() => setSelected(null)} />}
        </>
      )}
    </div>
  );
}
