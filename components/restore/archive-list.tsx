"use client";
// The archives in the destination, newest first (number, date, size, status from history, last verification),
// with Verify on each and the choice of the one to restore; or any archive on the server named by its path.
import { useMutation } from "@tanstack/react-query";
import { useId, useState } from "react";
import { buttonClass, inputClass } from "../data/modal";
import { useEventStream } from "../event-stream";
import { formatBytes, formatDate } from "../format";
import { useTRPC } from "../trpc";
import type { ArchiveRow, ArchivesList, OperationHandlers } from "./types";

export function ArchiveList({ list, loading, selected, onSelect, busy, onStarted, onError }: OperationHandlers & {
  list: ArchivesList | undefined;
  loading: boolean;
  selected: string | null;
  onSelect: (archivePath: string) => void;
  /** An operation runs: nothing else can start. */
  busy: boolean;
}) {
  const trpc = useTRPC();
  const { running } = useEventStream();
  const verify = useMutation(trpc.restore.verify.mutationOptions({ onSuccess: (r) => onStarted(r.operationId), onError: (e) => onError(e.message) }));
  const pathId = useId();
  const [typed, setTyped] = useState("");
  const [typedProblem, setTypedProblem] = useState<string | null>(null);
  function open(e: React.FormEvent) {
    e.preventDefault();
    const p = typed.trim();
    if (!p.startsWith("/")) return setTypedProblem("Give the archive's absolute path on the server (starting with /).");
    setTypedProblem(null);
    onSelect(p);
  }
  const archives = list?.archives ?? [];
  const inList = archives.some((a) => a.path === selected);

  return (
    <section aria-label="Archives" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <h2 className="mb-1 text-base font-semibold">Archives</h2>
      <p className="mb-3 text-sm text-slate-600">
        Destination: <span className="break-all">{list?.destination ?? (loading ? "…" : "none")}</span>
      </p>
      {list?.problem && <p role="alert" className="mb-3 rounded border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">{list.problem}</p>}

      {loading ? <p className="text-sm">Loading…</p> : archives.length > 0 && (
        <table className="w-full text-sm">
          <caption className="sr-only">Archives in the destination, newest first</caption>
          <thead className="bg-slate-100 text-left">
            <tr>
              <th className="px-3 py-2"><span className="sr-only">Chosen</span></th>
              <th className="px-3 py-2">Number</th><th className="px-3 py-2">Date</th><th className="px-3 py-2">Size</th>
              <th className="px-3 py-2">Status</th><th className="px-3 py-2">Verification</th>
              <th className="px-3 py-2"><span className="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {archives.map((a) => {
              const verifying = running?.kind === "verify" && running.archivePath === a.path;
              return (
                <tr key={a.path} className={`border-t border-slate-100 ${a.path === selected ? "bg-blue-50" : ""}`}>
                  <td className="px-3 py-2">
                    <input type="radio" name="archive" aria-label={`Choose archive #${a.number}`} checked={a.path === selected} onChange={() => onSelect(a.path)} />
                  </td>
                  <td className="px-3 py-2" title={a.path}>#{a.number} <span className="text-slate-500">{a.name}</span></td>
                  <td className="px-3 py-2">{formatDate(a.history?.startingDate ?? a.mtime)}</td>
                  <td className="px-3 py-2">{formatBytes(a.size)}</td>
                  <td className="px-3 py-2"><HistoryStatus history={a.history} /></td>
                  <td className="px-3 py-2">{verifying ? <span className="text-blue-700">Verifying…</span> : <Verification v={a.verification} />}</td>
                  <td className="px-3 py-2 text-right">
                    <button type="button" aria-label={`Verify archive #${a.number}`} disabled={busy || verify.isPending}
                      onClick={() => verify.mutate({ archivePath: a.path })} className={buttonClass.small}>Verify</button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {list && list.logBackups.length > 0 && (
        <p className="mt-2 text-xs text-slate-500">
          Log backups in the destination: {list.logBackups.map((l) => `[${l.number}] ${formatBytes(l.size)}`).join(", ")} (replayed by log integration).
        </p>
      )}

      <form className="mt-4 flex flex-wrap items-end gap-2" onSubmit={open}>
        <div className="flex min-w-80 flex-1 flex-col gap-1 text-sm">
          <label htmlFor={pathId}>Or an archive path on the server</label>
          <input id={pathId} type="text" value={typed} onChange={(e) => { setTyped(e.target.value); setTypedProblem(null); }} placeholder="/path/to/Name[0001].zip"
            spellCheck={false} className={`${inputClass} font-mono`} />
        </div>
        <button type="submit" disabled={!typed.trim()} className={buttonClass.secondary}>Open</button>
      </form>
      {typedProblem && <p role="alert" className="mt-2 text-sm text-red-700">{typedProblem}</p>}
      {selected && !inList && <p className="mt-2 text-sm">Chosen: <span className="break-all font-mono">{selected}</span></p>}
    </section>
  );
}

function HistoryStatus({ history }: { history: ArchiveRow["history"] }) {
  if (!history) return <span className="text-slate-500">not in the history</span>;
  const tone = history.status === 0 ? "text-emerald-700" : history.partial ? "text-amber-700" : "text-red-700";
  return <span className={tone}>{history.status} — {history.statusText}{history.partial ? " (partial)" : ""}</span>;
}

function Verification({ v }: { v: ArchiveRow["verification"] }) {
  if (!v) return <span className="text-slate-500">not verified</span>;
  if (v.ok) return <span className="text-emerald-700" title={formatDate(v.at)}>OK <span className="text-xs text-slate-500">({formatDate(v.at)})</span></span>;
  return (
    <div className="text-red-700">
      <span title={formatDate(v.at)}>Damaged</span> <span className="text-xs text-slate-500">({formatDate(v.at)})</span>
      <ul className="list-disc pl-4 text-xs">{v.problems.map((p, i) => <li key={i} className="break-all">{p}</li>)}</ul>
    </div>
  );
}
