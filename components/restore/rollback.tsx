"use client";
// Rollback: the log's operations, newest first, paged and searchable; "Roll back to here" returns the data to its
// state just after that operation (the last backup before it, plus the log up to it), after a confirmation.
import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { buttonClass, inputClass, Modal } from "../data/modal";
import { formatDate } from "../format";
import { useTRPC } from "../trpc";
import type { LogOperation, OperationHandlers } from "./types";
import { useDebounced } from "../use-debounced";

const PAGE_SIZE = 20;
/** Same pause as the folder check: the search is sent once typing stops. */
const SEARCH_DELAY_MS = 300;

export function Rollback({ busy, onStarted, onError }: OperationHandlers & { busy: boolean }) {
  const trpc = useTRPC();
  const searchId = useId();
  const [offset, setOffset] = useState(0);
  const [search, setSearch] = useState("");
  const settledSearch = useDebounced(search.trim(), SEARCH_DELAY_MS);
  const [chosen, setChosen] = useState<LogOperation | null>(null);
  const ops = useQuery(trpc.restore.logOperations.queryOptions(
    { offset, limit: PAGE_SIZE, ...(settledSearch ? { search: settledSearch } : {}) },
    { placeholderData: keepPreviousData },
  ));
  const rollback = useMutation(trpc.restore.rollback.mutationOptions({
    onSuccess: (r) => { setChosen(null); onStarted(r.operationId); },
    onError: (e) => { setChosen(null); onError(e.message); },
  }));
  const total = ops.data?.total ?? 0;
  const rows = ops.data?.operations ?? [];

  return (
    <section aria-label="Rollback" className="rounded-lg border border-red-200 bg-white p-5 shadow-sm">
      <h2 className="mb-1 text-base font-semibold text-red-900">Rollback</h2>
      <p className="mb-3 text-sm text-slate-600">
        Returns the live data to its state just after a chosen operation: the last backup before it is restored in place and the log
        is replayed up to that operation. The current data file is kept aside.
      </p>
      <div className="mb-3 flex flex-wrap items-end gap-3">
        <div className="flex flex-col gap-1 text-sm">
          <label htmlFor={searchId}>Search the log</label>
          <input id={searchId} type="search" value={search} placeholder="table, user, key…" spellCheck={false}
            onChange={(e) => { setSearch(e.target.value); setOffset(0); }} className={`${inputClass} w-64`} />
        </div>
        <span className="ml-auto text-sm text-slate-600">
          {total === 0 ? "No operation" : `Operations ${offset + 1}–${offset + rows.length} of ${total.toLocaleString()}`}
        </span>
        <button type="button" className={buttonClass.secondary} disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>Newer</button>
        <button type="button" className={buttonClass.secondary} disabled={offset + PAGE_SIZE >= total} onClick={() => setOffset(offset + PAGE_SIZE)}>Older</button>
      </div>
      {ops.error && <p role="alert" className="mb-2 text-sm text-red-700">The log can't be read: {ops.error.message}</p>}
      <table className="w-full text-sm">
        <caption className="sr-only">Log operations, newest first</caption>
        <thead className="bg-slate-100 text-left">
          <tr>
            <th className="px-3 py-2">Operation</th><th className="px-3 py-2">Time</th><th className="px-3 py-2">User</th>
            <th className="px-3 py-2">Kind</th><th className="px-3 py-2">Table</th><th className="px-3 py-2">Key</th>
            <th className="px-3 py-2"><span className="sr-only">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {rows.map((o) => (
            <tr key={o.op} className="border-t border-slate-100">
              <td className="px-3 py-1.5">#{o.op}</td>
              <td className="px-3 py-1.5">{formatDate(o.time)}</td>
              <td className="px-3 py-1.5">{o.user ?? "—"}</td>
              <td className="px-3 py-1.5">{o.kind}</td>
              <td className="px-3 py-1.5">{o.table ?? "—"}</td>
              <td className="px-3 py-1.5">{o.key ?? "—"}</td>
              <td className="px-3 py-1.5 text-right">
                <button type="button" aria-label={`Roll back to operation ${o.op}`} disabled={busy} onClick={() => setChosen(o)} className={buttonClass.small}>
                  Roll back to here
                </button>
              </td>
            </tr>
          ))}
          {!ops.isLoading && rows.length === 0 && (
            <tr><td colSpan={7} className="px-3 py-3 text-slate-600">{settledSearch ? "No operation matches the search." : "The log holds no operation."}</td></tr>
          )}
        </tbody>
      </table>

      {chosen && (
        <Modal title={`Roll back to operation #${chosen.op}?`} onClose={() => setChosen(null)}>
          <p className="text-sm">
            The live data returns to its state just after operation #{chosen.op} ({chosen.kind}{chosen.table ? ` on ${chosen.table}` : ""}
            {chosen.key != null ? ` ${chosen.key}` : ""}, {formatDate(chosen.time)}{chosen.user ? ` by ${chosen.user}` : ""}).
            Every later change is no longer in the data; the current data file is moved aside, not deleted.
          </p>
          <div className="flex justify-end gap-2">
            <button type="button" className={buttonClass.secondary} onClick={() => setChosen(null)}>Cancel</button>
            <button type="button" className={buttonClass.danger} disabled={rollback.isPending}
              onClick={() => rollback.mutate({ operation: chosen.op, confirm: true })}>
              Roll back
            </button>
          </div>
        </Modal>
      )}
    </section>
  );
}
