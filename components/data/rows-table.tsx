"use client";
// One page of a table's rows: a real <table> whose column headers sort (aria-sort on the sorted one), with Edit
// and Delete per row for operators and admins.
import type { Cell, ColumnInfo } from "./cell-values";
import { buttonClass } from "./modal";

export interface OrderBy { column: string; direction: "asc" | "desc" }
export type Row = Record<string, Cell>;

/** The row's key for the data API: its primary key column's value, or its rowid; null when the page lacks it. */
export function rowKey(row: Row, primaryKey: string): string | number | null {
  const k = row[primaryKey];
  return typeof k === "string" || typeof k === "number" ? k : null;
}

function CellView({ value }: { value: Cell | undefined }) {
  if (value === null || value === undefined) return <span className="italic text-slate-400">NULL</span>;
  const text = typeof value === "boolean" ? (value ? "true" : "false") : String(value);
  // Cells stay on one line; a long text is cut and shown whole in its tooltip (and in the Edit form).
  return text.length > 60 ? <span title={text}>{text.slice(0, 60)}…</span> : <>{text}</>;
}

export function RowsTable({ table, columns, rows, primaryKey, orderBy, onSort, canWrite, onEdit, onDelete }: {
  table: string;
  columns: ColumnInfo[];
  rows: Row[];
  primaryKey: string;
  orderBy: OrderBy | null;
  onSort: (orderBy: OrderBy) => void;
  canWrite: boolean;
  onEdit: (row: Row) => void;
  onDelete: (row: Row) => void;
}) {
  // A table without a declared key is edited by rowid; show it as the first column so people see which row is which.
  const shown = primaryKey === "rowid" && !columns.some((c) => c.name === "rowid")
    ? [{ name: "rowid", type: "INTEGER", primaryKey: true, notNull: true }, ...columns]
    : columns;
  return (
    <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
      <table className="w-full text-sm">
        <caption className="sr-only">Rows of {table}</caption>
        <thead className="bg-slate-100 text-left">
          <tr>
            {shown.map((c) => {
              const sorted = orderBy?.column === c.name ? orderBy.direction : null;
              return (
                <th key={c.name} scope="col" aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined}
                  className="whitespace-nowrap px-3 py-2 font-medium">
                  <button type="button" title={`${c.type || "any type"}${c.primaryKey ? ", primary key" : ""}${c.notNull ? ", required" : ""}. Click to sort.`}
                    onClick={() => onSort({ column: c.name, direction: sorted === "asc" ? "desc" : "asc" })}
                    className="inline-flex items-center gap-1 font-mono hover:underline">
                    {c.name}
                    <span aria-hidden className="text-xs text-slate-500">{sorted === "asc" ? "▲" : sorted === "desc" ? "▼" : ""}</span>
                  </button>
                </th>
              );
            })}
            {canWrite && <th scope="col" className="sticky right-0 bg-slate-100 px-3 py-2"><span className="sr-only">Actions</span></th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => {
            const key = rowKey(row, primaryKey);
            return (
              <tr key={key ?? `#${i}`} className="border-t border-slate-100 hover:bg-slate-50">
                {shown.map((c) => (
                  <td key={c.name} className={`whitespace-nowrap px-3 py-1.5 ${c.primaryKey || c.name === primaryKey ? "font-mono text-slate-600" : ""}`}>
                    <CellView value={row[c.name]} />
                  </td>
                ))}
                {canWrite && (
                  // Kept in view at the right edge while a wide table scrolls sideways.
                  <td className="sticky right-0 whitespace-nowrap bg-white px-3 py-1.5 text-right shadow-[-6px_0_6px_-6px_rgba(0,0,0,0.15)]">
                    {key === null ? <span className="text-xs text-slate-400">no key</span> : (
                      <span className="inline-flex gap-1">
                        <button type="button" aria-label={`Edit row ${key}`} onClick={() => onEdit(row)} className={buttonClass.small}>Edit</button>
                        <button type="button" aria-label={`Delete row ${key}`} onClick={() => onDelete(row)} className={`${buttonClass.small} hover:bg-red-50`}>Delete</button>
                      </span>
                    )}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
