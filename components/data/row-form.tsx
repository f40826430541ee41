"use client";
// The row form (operators and admins): one labelled input per column, for a new row or an existing one. An edit
// sends only the columns that were changed, so a concurrent change to another column is not overwritten. A long
// text the page of rows showed cut stays read-only until its whole value is loaded (editing the cut text would
// store it cut).
import { useId, useState } from "react";
import { cellText, cellValue, isEditable, type Cell, type ColumnInfo } from "./cell-values";
import { buttonClass, inputClass, Modal } from "./modal";

export function RowForm({ title, columns, row, truncated = {}, loadWhole, keyColumn, submitLabel, busy, error, onSubmit, onClose }: {
  title: string;
  columns: ColumnInfo[];
  /** The row being edited; absent for a new row. */
  row?: Record<string, Cell>;
  /** The row's cells that the page shows cut, with their whole length in characters. */
  truncated?: Record<string, number>;
  /** Reads a cell's whole value (for the cut ones). */
  loadWhole?: (column: string) => Promise<Cell>;
  /** The primary key column (read-only in an edit), or "rowid". */
  keyColumn: string;
  submitLabel: string;
  busy: boolean;
  error: string | null;
  onSubmit: (values: Record<string, Cell>) => void;
  onClose: () => void;
}) {
  const base = useId();
  // The whole values loaded for cut cells: they replace the cut text as what an edit is compared with.
  const [whole, setWhole] = useState<Record<string, string>>({});
  const [loading, setLoading] = useState<{ column: string; error: string | null } | null>(null);
  const initial = Object.fromEntries(columns.map((c) => [c.name, whole[c.name] ?? cellText(row?.[c.name])]));
  const [texts, setTexts] = useState<Record<string, string>>(initial);
  const isCut = (column: string) => row !== undefined && truncated[column] !== undefined && whole[column] === undefined;

  async function load(column: string) {
    if (!loadWhole) return;
    setLoading({ column, error: null });
    try {
      const text = cellText(await loadWhole(column));
      setWhole((w) => ({ ...w, [column]: text }));
      setTexts((t) => ({ ...t, [column]: text }));
      setLoading(null);
    } catch (err) {
      setLoading({ column, error: (err as Error).message });
    }
  }

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const values: Record<string, Cell> = {};
    for (const c of columns) {
      if (!isEditable(c) || isCut(c.name)) continue;
      const text = texts[c.name] ?? "";
      if (row) {
        // An edit: the columns whose text changed, never the key.
        if (c.name !== keyColumn && text !== initial[c.name]) values[c.name] = cellValue(text, c);
      } else if (text !== "") {
        // A new row: what was typed; an empty field is left to the column's default (an INTEGER key numbers itself).
        values[c.name] = cellValue(text, c);
      }
    }
    onSubmit(values);
  }

  return (
    <Modal title={title} onClose={() => { if (!busy) onClose(); }} wide>
      <form onSubmit={submit} className="space-y-4" aria-label={title}>
        <div className="grid max-h-[60vh] grid-cols-[max-content_1fr] items-center gap-x-4 gap-y-2 overflow-y-auto pr-1">
          {columns.map((c) => {
            const id = `${base}-${c.name}`;
            const isKey = c.name === keyColumn;
            const cut = isCut(c.name);
            const readOnly = (row !== undefined && isKey) || !isEditable(c) || cut;
            return (
              <div key={c.name} className="contents">
                <label htmlFor={id} className="text-sm">
                  <span className="font-mono">{c.name}</span>{" "}
                  <span className="ml-2 text-xs text-slate-500">{c.type || "any"}{c.primaryKey ? " · key" : ""}{c.notNull ? " · required" : ""}</span>
                </label>
                <input id={id} value={texts[c.name] ?? ""} readOnly={readOnly} disabled={busy && !readOnly}
                  placeholder={isKey && !row && /INT/i.test(c.type) ? "automatic" : c.notNull ? "" : "NULL"}
                  aria-describedby={!isEditable(c) ? `${id}-blob` : cut ? `${id}-cut` : undefined}
                  onChange={(e) => setTexts((t) => ({ ...t, [c.name]: e.target.value }))}
                  className={`${inputClass} ${readOnly ? "bg-slate-50 text-slate-500" : ""} w-full font-mono`} spellCheck={false} />
                {!isEditable(c) && <span id={`${id}-blob`} className="sr-only">Binary data can&apos;t be edited here.</span>}
                {cut && (
                  <p id={`${id}-cut`} className="col-start-2 flex flex-wrap items-center gap-2 text-xs text-slate-600">
                    Shown cut: {truncated[c.name]!.toLocaleString()} characters in all.
                    {loadWhole && (
                      <button type="button" disabled={loading?.column === c.name && !loading.error} onClick={() => void load(c.name)} className={buttonClass.small}>
                        Load the whole value of {c.name} to edit it
                      </button>
                    )}
                    {loading?.column === c.name && loading.error && <span role="alert" className="text-red-700">{loading.error}</span>}
                  </p>
                )}
              </div>
            );
          })}
        </div>
        <p className="text-xs text-slate-500">An emptied field stores NULL (an empty text in a required text column).</p>
        {error && <p role="alert" className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">{error}</p>}
        <div className="flex justify-end gap-2">
          <button type="button" onClick={onClose} disabled={busy} className={buttonClass.secondary}>Close</button>
          <button type="submit" disabled={busy} className={buttonClass.primary}>{busy ? "Saving…" : submitLabel}</button>
        </div>
      </form>
    </Modal>
  );
}
