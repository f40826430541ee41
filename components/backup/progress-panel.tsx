"use client";
// The progress thermometer (role progressbar) with phase, bytes, files, current file, speed, ETA and Stop.
import type { OperationProgress } from "@/server/trpc/root";
import { formatBytes, formatTrigger } from "../format";

const PHASES: Record<OperationProgress["phase"], string> = {
  startup: "Starting", snapshot: "Taking the data file snapshot", archive: "Writing the archive",
  verify: "Verifying the archive", commit: "Committing", logBackup: "Saving the log backup", retention: "Removing old backups",
  restore: "Restoring files", integrate: "Integrating the log", swap: "Replacing the data file", shutdown: "Finishing",
};

/** "Backup #12", "Restore of #12", "Log integration"… */
export function operationTitle(p: Pick<OperationProgress, "kind" | "backupNumber">): string {
  const n = p.backupNumber ? ` #${p.backupNumber}` : "";
  switch (p.kind) {
    case "backup": return `Backup${n}`;
    case "restore": return `Restore${n ? ` of${n}` : ""}`;
    case "restoreInPlace": return `Restore of the data file${n ? ` from${n}` : ""}`;
    case "verify": return `Verification${n ? ` of${n}` : ""}`;
    case "logIntegration": return "Log integration";
  }
}

function eta(seconds: number | null): string {
  if (seconds == null) return "estimating…";
  if (seconds < 60) return `${seconds} s`;
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

export function ProgressPanel({ progress: p, canStop, onStop, stopping }: { progress: OperationProgress; canStop: boolean; onStop: () => void; stopping: boolean }) {
  const percent = Math.floor(p.percent);
  return (
    <section aria-label={p.kind === "backup" ? "Backup in progress" : `${operationTitle({ kind: p.kind, backupNumber: null })} in progress`} className="rounded-lg border border-blue-200 bg-white p-5 shadow-sm">
      <div className="mb-2 flex flex-wrap items-baseline gap-3">
        <h2 className="text-base font-semibold">{operationTitle(p)} in progress</h2>
        <span className="text-sm text-slate-600">{PHASES[p.phase]}{stopping ? " — stopping…" : ""}</span>
        <span className="text-sm text-slate-500">started by {formatTrigger(p.trigger.kind, p.trigger.user)}</span>
        {canStop && (
          <button type="button" onClick={onStop} disabled={stopping}
            className="ml-auto rounded bg-red-700 px-4 py-1.5 text-sm font-medium text-white hover:bg-red-800 disabled:opacity-50">
            Stop
          </button>
        )}
      </div>
      <div role="progressbar" aria-label={`${p.kind === "backup" ? "Backup" : operationTitle({ kind: p.kind, backupNumber: null })} progress`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}
        aria-valuetext={`${percent}% — ${PHASES[p.phase]}`} className="h-5 w-full overflow-hidden rounded bg-slate-200">
        <div className="h-full bg-blue-600 transition-[width] duration-200" style={{ width: `${percent}%` }} />
      </div>
      <dl className="mt-3 grid grid-cols-2 gap-x-6 gap-y-1 text-sm md:grid-cols-4">
        <div><dt className="text-slate-500">Done</dt><dd>{percent}%</dd></div>
        <div><dt className="text-slate-500">Bytes</dt><dd>{formatBytes(p.bytesDone)} of {formatBytes(p.bytesTotal)}</dd></div>
        <div><dt className="text-slate-500">Files</dt><dd>{p.filesDone} of {p.filesTotal}</dd></div>
        <div><dt className="text-slate-500">Speed · time left</dt><dd>{p.bytesPerSecond ? `${formatBytes(p.bytesPerSecond)}/s` : "—"} · {eta(p.etaSeconds)}</dd></div>
      </dl>
      <p className="mt-2 truncate text-sm text-slate-600" title={p.currentFile ?? undefined}>
        <span className="text-slate-500">Current file: </span>{p.currentFile ?? "—"}
      </p>
    </section>
  );
}
