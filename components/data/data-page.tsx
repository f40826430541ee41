"use client";
// The Data page (docs/log-file.md, docs/console.md): the data file's tables with their row counts, the selected table's rows with
// paging, a filter and sorting; operators and admins add, edit and delete rows, admins create tables and add
// columns. Reads never wait; a write made while a backup holds the data write lock waits, with the waiting dialog.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import { useShellUser } from "../console-shell";
import { useEventStream } from "../event-stream";
import { LogProblemBanner } from "../log-problem-banner";
import { formatDate } from "../format";
import { plural } from "@/server/isomorphic/plural";
import { useTRPC } from "../trpc";
import { formatCount, type Cell, type ColumnInfo } from "./cell-values";
import { buttonClass, inputClass, Modal } from "./modal";
import { RowFilter, type RowFilterValue } from "./row-filter";
import { RowForm } from "./row-form";
import { rowKey, RowsTable, type OrderBy, type Row } from "./rows-table";
import { AddColumnForm, NewTableForm } from "./schema-forms";
import { useWaitingWrite, type WriteOutcome } from "./waiting-write";

type Dialog =
  | { kind: "add" }
  | { kind: "edit"; row: Row; key: string | number; truncated: Record<string, number> }
  | { kind: "delete"; key: string | number }
  | { kind: "newTable" }
  | { kind: "addColumn" };

const PAGE_SIZES = [25, 50, 100, 200] as const;

export function DataPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useShellUser();
  const canWrite = me.role !== "viewer";
  const isAdmin = me.role === "admin";
  const params = useSearchParams();
  const router = useRouter();
  const tables = useQuery(trpc.data.tables.queryOptions());
  const list = tables.data?.tables ?? [];
  const selectedName = params.get("table") ?? list[0]?.name ?? null;
  const selected = list.find((t) => t.name === selectedName) ?? null;

  const writes = useWaitingWrite();
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const insert = useMutation(trpc.data.insert.mutationOptions());
  const update = useMutation(trpc.data.update.mutationOptions());
  const remove = useMutation(trpc.data.delete.mutationOptions());
  const createTable = useMutation(trpc.data.createTable.mutationOptions());
  const addColumn = useMutation(trpc.data.addColumn.mutationOptions());

  const open = (d: Dialog) => { setFormError(null); setDialog(d); };
  const close = () => { setDialog(null); setFormError(null); };

  /** One write from a dialog: on success the dialog closes and every data query refreshes; a cancelled write closes it too. */
  async function write<T>(what: string, send: (requestId: string) => Promise<T>, done: (value: T) => string) {
    setBusy(true);
    setFormError(null);
    setNotice(null);
    const outcome: WriteOutcome<T> = await writes.run(what, send);
    setBusy(false);
    if (outcome.ok) {
      setDialog(null);
      setNotice(done(outcome.value));
    } else if (outcome.cancelled) {
      setDialog(null);
    } else {
      setFormError(outcome.message);
    }
    await queryClient.invalidateQueries({ queryKey: trpc.data.pathKey() });
  }

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center gap-4">
        <h1 className="text-2xl font-semibold">Data</h1>
        {isAdmin && <button type="button" onClick={() => open({ kind: "newTable" })} className={`${buttonClass.secondary} ml-auto`}>New table</button>}
      </div>
      <LogProblemBanner />
      <LockBanner />
      {!canWrite && (
        <p className="rounded border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900">
          Read-only: operators and admins change rows. You are signed in as a viewer.
        </p>
      )}
      {tables.error && <p role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-800">The tables can&apos;t be read: {tables.error.message}</p>}

      <div className="grid gap-6 md:grid-cols-[14rem_1fr]">
        <nav aria-label="Tables" className="self-start rounded-lg border border-slate-200 bg-white p-2 shadow-sm">
          <h2 className="px-2 pb-1 pt-1 text-sm font-semibold text-slate-600">Tables</h2>
          {tables.isLoading ? <p className="px-2 py-1 text-sm text-slate-500">Loading…</p> : list.length === 0 && !tables.error ? (
            <p className="px-2 py-1 text-sm text-slate-600">The data file has no tables yet.{isAdmin ? " Create one with New table." : ""}</p>
          ) : (
            <ul className="space-y-0.5">
              {list.map((t) => {
                const current = t.name === selected?.name;
                return (
                  <li key={t.name}>
                    <Link href={{ pathname: "/data", query: { table: t.name } }} aria-current={current ? "true" : undefined}
                      aria-label={`${t.name} (${plural(t.rowCount, "row", "rows", formatCount)})`}
                      className={`flex items-baseline justify-between gap-2 rounded px-2 py-1.5 text-sm ${current ? "bg-slate-900 text-white" : "hover:bg-slate-100"}`}>
                      <span className="truncate font-mono">{t.name}</span>
                      <span className={`text-xs ${current ? "text-slate-300" : "text-slate-500"}`}>{plural(t.rowCount, "row", "rows", formatCount)}</span>
                    </Link>
                  </li>
                );
              })}
            </ul>
          )}
        </nav>

        <div className="min-w-0 space-y-4">
          {writes.cancelled && (
            <div role="alert" className="flex items-start gap-3 rounded border border-amber-300 bg-amber-50 px-4 py-3 text-amber-900">
              <p className="flex-1">{writes.cancelled}</p>
              <button type="button" onClick={writes.dismissCancelled} className={buttonClass.small}>Dismiss</button>
            </div>
          )}
          {notice && <p role="status" className="rounded border border-emerald-200 bg-emerald-50 px-4 py-3 text-emerald-900">{notice}</p>}
          {selected ? (
            <TableView key={selected.name} table={selected.name} fallbackColumns={selected.columns} fallbackKey={selected.primaryKey}
              canWrite={canWrite} isAdmin={isAdmin}
              onAdd={() => open({ kind: "add" })} onAddColumn={() => open({ kind: "addColumn" })}
              onEdit={(row, key, truncated) => open({ kind: "edit", row, key, truncated })} onDelete={(key) => open({ kind: "delete", key })} />
          ) : selectedName && tables.data ? (
            <p role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-800">There is no table named {selectedName} in the data file.</p>
          ) : null}
        </div>
      </div>

      {selected && dialog?.kind === "add" && (
        <RowForm title={`Add a row to ${selected.name}`} columns={selected.columns} keyColumn={selected.primaryKey}
          submitLabel="Add row" busy={busy} error={formError} onClose={close}
          onSubmit={(values) => void write(`the new row in ${selected.name}`,
            (requestId) => insert.mutateAsync({ table: selected.name, values, requestId }),
            (r) => `Row ${String(r.key)} added to ${selected.name}.`)} />
      )}
      {selected && dialog?.kind === "edit" && (
        <RowForm title={`Edit row ${dialog.key} of ${selected.name}`} columns={selected.columns} keyColumn={selected.primaryKey}
          row={dialog.row} truncated={dialog.truncated}
          loadWhole={async (column) => (await queryClient.fetchQuery(trpc.data.cell.queryOptions({ table: selected.name, key: dialog.key, column }, { staleTime: 0 }))).value}
          submitLabel="Save row" busy={busy} error={formError} onClose={close}
          onSubmit={(values: Record<string, Cell>) => {
            if (Object.keys(values).length === 0) { close(); setNotice("Nothing to save: no field was changed."); return; }
            void write(`the change to row ${dialog.key} of ${selected.name}`,
              (requestId) => update.mutateAsync({ table: selected.name, key: dialog.key, values, requestId }),
              () => `Row ${dialog.key} of ${selected.name} saved.`);
          }} />
      )}
      {selected && dialog?.kind === "delete" && (
        <Modal title={`Delete row ${dialog.key} of ${selected.name}?`} onClose={() => { if (!busy) close(); }}>
          <p className="text-sm">The row is removed from the data file. This can&apos;t be undone here (a restore can bring it back).</p>
          {formError && <p role="alert" className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">{formError}</p>}
          <div className="flex justify-end gap-2">
            <button type="button" onClick={close} disabled={busy} className={buttonClass.secondary}>Keep the row</button>
            <button type="button" disabled={busy} className={buttonClass.danger}
              onClick={() => void write(`the deletion of row ${dialog.key} of ${selected.name}`,
                (requestId) => remove.mutateAsync({ table: selected.name, key: dialog.key, requestId }),
                () => `Row ${dialog.key} deleted from ${selected.name}.`)}>
              {busy ? "Deleting…" : "Delete"}
            </button>
          </div>
        </Modal>
      )}
      {selected && dialog?.kind === "addColumn" && (
        <AddColumnForm table={selected.name} busy={busy} error={formError} onClose={close}
          onSubmit={(column) => void write(`the new column ${column.name} of ${selected.name}`,
            (requestId) => addColumn.mutateAsync({ table: selected.name, column, requestId }),
            () => `Column ${column.name} added to ${selected.name}.`)} />
      )}
      {dialog?.kind === "newTable" && (
        <NewTableForm busy={busy} error={formError} onClose={close}
          onSubmit={(table, columns) => void write(`the new table ${table}`,
            (requestId) => createTable.mutateAsync({ table, columns, requestId }),
            () => { router.push(`/data?table=${encodeURIComponent(table)}`); return `Table ${table} created.`; })} />
      )}
      {writes.dialog}
    </div>
  );
}

/** Whether a backup holds the data write lock now (asked while an operation runs, and once when it ends). */
function LockBanner() {
  const trpc = useTRPC();
  const { running } = useEventStream();
  const lock = useQuery(trpc.data.lockState.queryOptions(undefined, { refetchInterval: running ? 1_000 : false }));
  const { refetch } = lock;
  useEffect(() => { void refetch(); }, [running?.operationId, refetch]);
  const data = lock.data?.data;
  if (!data?.held) return null;
  return (
    <p role="status" className="rounded border border-sky-200 bg-sky-50 px-4 py-3 text-sm text-sky-900">
      A backup holds the data write lock (since {formatDate(data.since)}): reading goes on, and changes wait until it
      ends{data.waiting ? ` (${data.waiting} waiting)` : ""}.
    </p>
  );
}

function TableView({ table, fallbackColumns, fallbackKey, canWrite, isAdmin, onAdd, onAddColumn, onEdit, onDelete }: {
  table: string;
  fallbackColumns: ColumnInfo[];
  fallbackKey: string;
  canWrite: boolean;
  isAdmin: boolean;
  onAdd: () => void;
  onAddColumn: () => void;
  onEdit: (row: Row, key: string | number, truncated: Record<string, number>) => void;
  onDelete: (key: string | number) => void;
}) {
  const trpc = useTRPC();
  const [offset, setOffset] = useState(0);
  const [limit, setLimit] = useState<number>(50);
  const [filter, setFilter] = useState<RowFilterValue | null>(null);
  const [orderBy, setOrderBy] = useState<OrderBy | null>(null);
  const rows = useQuery(trpc.data.rows.queryOptions(
    { table, offset, limit, ...(filter ? { filter } : {}), ...(orderBy ? { orderBy } : {}) },
    { placeholderData: keepPreviousData },
  ));
  const page = rows.data;
  const columns = page?.columns ?? fallbackColumns;
  const primaryKey = page?.primaryKey ?? fallbackKey;
  const total = page?.total ?? 0;

  // A delete can empty the last page: step back to the page that now holds the last rows.
  useEffect(() => {
    if (page && page.rows.length === 0 && page.total > 0 && offset > 0) setOffset(Math.max(0, Math.floor((page.total - 1) / limit) * limit));
  }, [page, offset, limit]);

  return (
    <section aria-label={`Table ${table}`} className="space-y-3">
      <div className="flex flex-wrap items-center gap-3">
        <h2 className="font-mono text-lg font-semibold">{table}</h2>
        <span className="text-sm text-slate-500">{plural(columns.length, "column")} · key {primaryKey}</span>
        <div className="ml-auto flex gap-2">
          {isAdmin && <button type="button" onClick={onAddColumn} className={buttonClass.secondary}>Add column</button>}
          {canWrite && <button type="button" onClick={onAdd} className={buttonClass.primary}>Add row</button>}
        </div>
      </div>

      {columns.length > 0 && (
        <RowFilter columns={columns} active={filter} onApply={(f) => { setFilter(f); setOffset(0); }} />
      )}

      {rows.error ? (
        <p role="alert" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-red-800">The rows can&apos;t be read: {rows.error.message}</p>
      ) : !page ? (
        <p className="text-sm text-slate-500">Loading…</p>
      ) : total === 0 ? (
        <p className="rounded border border-slate-200 bg-white px-4 py-6 text-center text-sm text-slate-600">
          {filter ? "No rows match the filter." : `${table} has no rows yet.`}
        </p>
      ) : (
        <RowsTable table={table} columns={columns} rows={page.rows} primaryKey={primaryKey} orderBy={orderBy}
          onSort={(o) => { setOrderBy(o); setOffset(0); }} canWrite={canWrite}
          onEdit={(row) => {
            const k = rowKey(row, primaryKey);
            const index = page.rows.indexOf(row);
            const cut = Object.fromEntries(page.truncated.filter((t) => t.row === index).map((t) => [t.column, t.chars]));
            if (k !== null) onEdit(row, k, cut);
          }}
          onDelete={(row) => { const k = rowKey(row, primaryKey); if (k !== null) onDelete(k); }} />
      )}

      {page && total > 0 && (
        <div className="flex flex-wrap items-center gap-3 text-sm">
          <p aria-live="polite">
            Rows {formatCount(page.offset + 1)}–{formatCount(page.offset + page.rows.length)} of {formatCount(total)}
            {rows.isFetching && <span className="ml-2 text-slate-400">updating…</span>}
          </p>
          <div className="ml-auto flex items-center gap-2">
            <label className="flex items-center gap-2">Rows per page
              <select value={limit} onChange={(e) => { setLimit(Number(e.target.value)); setOffset(0); }} className={inputClass}>
                {PAGE_SIZES.map((n) => <option key={n} value={n}>{n}</option>)}
              </select>
            </label>
            <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - limit))} className={buttonClass.secondary}>Previous</button>
            <button type="button" disabled={offset + limit >= total} onClick={() => setOffset(offset + limit)} className={buttonClass.secondary}>Next</button>
          </div>
        </div>
      )}
    </section>
  );
}
