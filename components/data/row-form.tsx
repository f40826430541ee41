"use client";
// The row form (operators and admins): one labelled input per column, for a new row or an existing one. An edit
// sends only the columns that were changed, so a concurrent change to another column is not overwritten.
import { useId, useState } from "react";
import { cellText, cellValue, isEditable, type Cell, type ColumnInfo } from "./cell-values";
import { buttonClass, inputClass, Modal } from "./modal";

export function RowForm({ title, columns, row, keyColumn, submitLabel, busy, error, onSubmit, onClose }: {
  title: string;
  columns: ColumnInfo[];
  /** The row being edited; absent for a new row. */
  row?: Record<string, Cell>;
  /** The primary key column (read-only in an edit), or "rowid". */
  keyColumn: string;
  submitLabel: string;
  busy: boolean;
  error: string | null;
  onSubmit: (values: Record<string, Cell>) => void;
  onClose: () => void;
}) {
  const base = useId();
  const initial = Object.fromEntries(columns.map((c) => [c.name, cellText(row?.[c.name])]));
  const [texts, setTexts] = useState<Record<string, string>>(initial);

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const values: Record<string, Cell> = {};
    for (const c of columns) {
      if (!isEditable(c)) continue;
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
            const readOnly = (row !== undefined && isKey) || !isEditable(c);
            return (
              <div key={c.name} className="contents">
                <label htmlFor={id} className="text-sm">
                  <span className="font-mono">{c.name}</span>{" "}
                  <span className="ml-2 text-xs text-slate-500">{c.type || "any"}{c.primaryKey ? " · key" : ""}{c.notNull ? " · required" : ""}</span>
                </label>
                <input id={id} value={texts[c.name] ?? ""} readOnly={readOnly} disabled={busy && !readOnly}
                  placeholder={isKey && !row && /INT/i.test(c.type) ? "automatic" : c.notNull ? "" : "NULL"}
                  aria-describedby={!isEditable(c) ? `${id}-blob` : undefined}
                  onChange={(e) => setTexts((t) => ({ ...t, [c.name]: e.target.value }))}
                  className={`${inputClass} ${readOnly ? "bg-slate-50 text-slate-500" : ""} w-full font-mono`} spellCheck={false} />
                {!isEditable(c) && <span id={`${id}-blob`} className="sr-only">Binary data can&apos;t be edited here.</span>}
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
