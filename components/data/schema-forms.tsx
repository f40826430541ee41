"use client";
// Schema changes (admins): a new table with its columns, and a column added to a table. They wait for the data
// write lock like any write (docs/log-file.md: they change the data file).
import { useId, useState } from "react";
import { buttonClass, inputClass, Modal } from "./modal";

export const COLUMN_TYPES = ["INTEGER", "REAL", "TEXT", "NUMERIC", "BLOB"] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];
export interface ColumnDraft { name: string; type: ColumnType; primaryKey: boolean; notNull: boolean }

const NAME_HINT = "Letters, digits and _ only, starting with a letter or _.";

function Actions({ busy, submitLabel, onClose }: { busy: boolean; submitLabel: string; onClose: () => void }) {
  return (
    <div className="flex justify-end gap-2">
      <button type="button" onClick={onClose} disabled={busy} className={buttonClass.secondary}>Close</button>
      <button type="submit" disabled={busy} className={buttonClass.primary}>{busy ? "Saving…" : submitLabel}</button>
    </div>
  );
}

const ErrorLine = ({ error }: { error: string | null }) =>
  error ? <p role="alert" className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">{error}</p> : null;

export function NewTableForm({ busy, error, onSubmit, onClose }: {
  busy: boolean; error: string | null;
  onSubmit: (table: string, columns: ColumnDraft[]) => void;
  onClose: () => void;
}) {
  const id = useId();
  const [name, setName] = useState("");
  const [columns, setColumns] = useState<ColumnDraft[]>([
    { name: "id", type: "INTEGER", primaryKey: true, notNull: false },
    { name: "", type: "TEXT", primaryKey: false, notNull: false },
  ]);
  const change = (i: number, patch: Partial<ColumnDraft>) =>
    setColumns((cs) => cs.map((c, j) => (j === i ? { ...c, ...patch } : patch.primaryKey ? { ...c, primaryKey: false } : c)));

  return (
    <Modal title="New table" onClose={() => { if (!busy) onClose(); }} wide>
      <form aria-label="New table" className="space-y-4"
        onSubmit={(e) => { e.preventDefault(); onSubmit(name.trim(), columns.map((c) => ({ ...c, name: c.name.trim() }))); }}>
        <div className="flex flex-col gap-1 text-sm">
          <label htmlFor={`${id}-name`}>Table name</label>
          <input id={`${id}-name`} required value={name} onChange={(e) => setName(e.target.value)} disabled={busy}
            className={`${inputClass} font-mono`} spellCheck={false} aria-describedby={`${id}-hint`} />
          <span id={`${id}-hint`} className="text-xs text-slate-500">{NAME_HINT}</span>
        </div>
        <fieldset className="space-y-2" disabled={busy}>
          <legend className="text-sm font-semibold">Columns</legend>
          {columns.map((c, i) => (
            <div key={i} className="flex flex-wrap items-center gap-3 text-sm">
              <input aria-label={`Column ${i + 1} name`} required value={c.name} placeholder="name" spellCheck={false}
                onChange={(e) => change(i, { name: e.target.value })} className={`${inputClass} w-44 font-mono`} />
              <select aria-label={`Column ${i + 1} type`} value={c.type} onChange={(e) => change(i, { type: e.target.value as ColumnType })} className={inputClass}>
                {COLUMN_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
              </select>
              <label className="flex items-center gap-1">
                <input type="radio" name={`${id}-key`} checked={c.primaryKey} onChange={() => change(i, { primaryKey: true })} />
                Primary key<span className="sr-only"> (column {i + 1})</span>
              </label>
              <label className="flex items-center gap-1">
                <input type="checkbox" checked={c.notNull} onChange={(e) => change(i, { notNull: e.target.checked })} />
                Required<span className="sr-only"> (column {i + 1})</span>
              </label>
              {columns.length > 1 && (
                <button type="button" onClick={() => setColumns((cs) => cs.filter((_, j) => j !== i))} className={buttonClass.small}>
                  Remove<span className="sr-only"> column {i + 1}</span>
                </button>
              )}
            </div>
          ))}
          <div className="flex gap-2">
            <button type="button" onClick={() => setColumns((cs) => [...cs, { name: "", type: "TEXT", primaryKey: false, notNull: false }])} className={buttonClass.small}>
              Another column
            </button>
            {columns.some((c) => c.primaryKey) && (
              <button type="button" onClick={() => setColumns((cs) => cs.map((c) => ({ ...c, primaryKey: false })))} className={buttonClass.small}>
                No primary key (rowid)
              </button>
            )}
          </div>
        </fieldset>
        <p className="text-xs text-slate-500">An INTEGER primary key numbers new rows by itself. Without a primary key, rows are edited by their rowid.</p>
        <ErrorLine error={error} />
        <Actions busy={busy} submitLabel="Create table" onClose={onClose} />
      </form>
    </Modal>
  );
}

export function AddColumnForm({ table, busy, error, onSubmit, onClose }: {
  table: string; busy: boolean; error: string | null;
  onSubmit: (column: { name: string; type: ColumnType }) => void;
  onClose: () => void;
}) {
  const id = useId();
  const [name, setName] = useState("");
  const [type, setType] = useState<ColumnType>("TEXT");
  const title = `Add a column to ${table}`;
  return (
    <Modal title={title} onClose={() => { if (!busy) onClose(); }}>
      <form aria-label={title} className="space-y-4" onSubmit={(e) => { e.preventDefault(); onSubmit({ name: name.trim(), type }); }}>
        <fieldset disabled={busy} className="flex flex-wrap items-end gap-3 text-sm">
          <div className="flex flex-col gap-1">
            <label htmlFor={`${id}-name`}>Column name</label>
            <input id={`${id}-name`} required value={name} onChange={(e) => setName(e.target.value)} className={`${inputClass} font-mono`} spellCheck={false} />
          </div>
          <div className="flex flex-col gap-1">
            <label htmlFor={`${id}-type`}>Column type</label>
            <select id={`${id}-type`} value={type} onChange={(e) => setType(e.target.value as ColumnType)} className={inputClass}>
              {COLUMN_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
            </select>
          </div>
        </fieldset>
        {/* SQLite adds a column to existing rows as NULL, so a new column can be neither required nor the key. */}
        <p className="text-xs text-slate-500">{NAME_HINT} Existing rows get NULL in the new column.</p>
        <ErrorLine error={error} />
        <Actions busy={busy} submitLabel="Add column" onClose={onClose} />
      </form>
    </Modal>
  );
}
