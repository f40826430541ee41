"use client";
// The end of an operation this tab started: its status, and every line saying where things went (the restored
// folder, the replaced data file kept aside…). A failure is an alert; a success is a status.
import type { OperationOutcome } from "@/server/trpc/root";
import { operationTitle } from "../backup/progress-panel";

export function OutcomePanel({ outcome }: { outcome: OperationOutcome }) {
  const ok = outcome.status === 0;
  const title = operationTitle({ kind: outcome.kind, backupNumber: outcome.backupNumber || null });
  return (
    <div role={ok ? "status" : "alert"} aria-label={`${title} result`}
      className={`rounded border px-4 py-3 ${ok ? "border-emerald-200 bg-emerald-50 text-emerald-900" : "border-red-200 bg-red-50 text-red-900"}`}>
      <p className="font-medium">{title} {ok ? "finished" : "failed"}: {outcome.status} — {outcome.statusText}</p>
      {outcome.details && outcome.details.length > 0 && (
        <ul className="mt-2 list-disc space-y-0.5 pl-5 text-sm">
          {outcome.details.map((line, i) => <li key={i} className="break-all">{line}</li>)}
        </ul>
      )}
    </div>
  );
}
