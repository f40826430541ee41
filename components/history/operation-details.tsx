"use client";
// One operation of the history in full: paths, times, status and errors, attachments found or not, and every file
// it saved — a page at a time, with a filter (a backup may hold tens of thousands of files).
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Field } from "../backup/card";
import { formatBytes, formatDate, formatDuration } from "../format";
import { useTRPC } from "../trpc";
import { useDebounced } from "../use-debounced";
import { operationLabel, OUTCOME_TEXT } from "./history-format";

const FILES_PAGE = 100;

export function OperationDetails({ id, panelId, onClose }: { id: string; panelId: string; onClose: () => void }) {
  const trpc = useTRPC();
  const [typed, setTyped] = useState("");
  const filter = useDebounced(typed, 250);
  // The parent keys this panel by the operation's id, so another operation starts on a fresh filter and page.
  const [offset, setOffset] = useState(0);
  const query = useQuery(trpc.history.details.queryOptions({ id, offset, limit: FILES_PAGE, filter }, { placeholderData: keepPreviousData }));
  const d = query.data?.details;
  const title = d ? `Details of ${operationLabel(d.operation).toLowerCase()} #${d.number}` : "Details";

  return (
    <section id={panelId} aria-label={title} className="rounded-lg border border-blue-200 bg-white p-5 shadow-sm">
      <div className="mb-3 flex items-baseline gap-3">
        <h2 className="text-base font-semibold">{title}</h2>
        {d && <span className={`text-sm ${OUTCOME_TEXT[d.outcome]}`}>{d.status} — {d.statusText}</span>}
        <button type="button" onClick={onClose} className="ml-auto rounded border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100">Close details</button>
      </div>
      {query.error ? <p role="alert" className="text-sm text-red-800">{query.error.message}</p>
        : query.data?.problem ? <p role="alert" className="text-sm text-red-800">{query.data.problem}</p>
        : !d ? <p className="text-sm text-slate-600">Loading…</p> : (
          <div className="space-y-5">
            <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
              <Field label="Operation">{operationLabel(d.operation)}</Field>
              <Field label="Trigger">{d.trigger ?? "—"}{d.user ? ` (${d.user})` : ""}</Field>
              <Field label="Scheduled">{d.scheduledDate ? formatDate(d.scheduledDate) : "not started by the scheduler"}</Field>
              <Field label="Started">{formatDate(d.startingDate)}</Field>
              <Field label="Ended">{formatDate(d.endingDate)} ({formatDuration(d.duration)})</Field>
              <Field label="Archive"><span className="break-all">{d.backupPath || "—"}</span></Field>
              <Field label="Archive size">{formatBytes(d.archiveSize)}</Field>
              {d.archiveSha256 && <Field label="SHA-256"><span className="break-all font-mono text-xs">{d.archiveSha256}</span></Field>}
              <Field label="Log backup"><span className="break-all">{d.logPath || "none"}</span></Field>
              <Field label="Structure"><span className="break-all">{d.structurePath || "—"}</span></Field>
              <Field label="Data file"><span className="break-all">{d.dataPath || "—"}</span></Field>
            </dl>

            <div>
              <h3 className="mb-1 text-sm font-semibold">Errors</h3>
              {d.errors.length === 0 ? <p className="text-sm text-slate-600">None.</p> : (
                <ul aria-label="Errors" className="list-disc pl-5 text-sm text-red-800">
                  {d.errors.map((e) => <li key={e} className="break-words">{e}</li>)}
                </ul>
              )}
            </div>

            <div>
              <h3 className="mb-1 text-sm font-semibold">Attachments</h3>
              {d.attachments.length === 0 ? <p className="text-sm text-slate-600">None.</p> : (
                <ul aria-label="Attachments" className="text-sm">
                  {d.attachments.map((a) => (
                    <li key={a.attachmentPath} className="break-all">
                      {a.attachmentPath}{" "}
                      {a.found ? <span className="font-medium text-emerald-700">Found</span> : <span className="font-medium text-red-700">Not found</span>}
                    </li>
                  ))}
                </ul>
              )}
            </div>

            <div>
              <h3 className="mb-1 text-sm font-semibold">Files saved</h3>
              <label className="block text-sm">
                Filter files
                <input type="search" value={typed} onChange={(e) => { setTyped(e.target.value); setOffset(0); }} placeholder="part of a path"
                  className="mt-1 block w-full max-w-md rounded border border-slate-300 px-2 py-1" />
              </label>
              <p className="mt-2 text-sm text-slate-600" aria-live="polite">
                {d.files.total === 0 ? "No files were saved."
                  : d.files.matching === 0 ? `No file matches “${d.files.filter}” (of ${d.files.total}).`
                  : `Files ${d.files.offset + 1}–${d.files.offset + d.files.items.length} of ${d.files.matching}`
                    + (d.files.filter.trim() ? ` matching “${d.files.filter.trim()}” (${d.files.total} saved in all)` : "")}
              </p>
              {d.files.items.length > 0 && (
                <ul aria-label="Files saved" className="mt-1 max-h-96 overflow-y-auto rounded border border-slate-100 font-mono text-xs">
                  {d.files.items.map((f) => <li key={f} className="break-all border-b border-slate-50 px-2 py-0.5">{f}</li>)}
                </ul>
              )}
              {d.files.matching > FILES_PAGE && (
                <nav aria-label="Files pages" className="mt-2 flex gap-2 text-sm">
                  <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - FILES_PAGE))}
                    className="rounded border border-slate-300 px-3 py-1 hover:bg-slate-100 disabled:opacity-40">Previous files</button>
                  <button type="button" disabled={offset + FILES_PAGE >= d.files.matching} onClick={() => setOffset(offset + FILES_PAGE)}
                    className="rounded border border-slate-300 px-3 py-1 hover:bg-slate-100 disabled:opacity-40">Next files</button>
                </nav>
              )}
            </div>
          </div>
        )}
    </section>
  );
}
