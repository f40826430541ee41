"use client";
// The simple filter of the data API: one column, one operator, one value. Applied on submit, so typing doesn't
// send a query per key.
import { useId, useState } from "react";
import { affinity, filterValue, type ColumnInfo } from "./cell-values";
import { buttonClass, inputClass } from "./modal";

export const FILTER_OPS = [["eq", "equals"], ["contains", "contains"], ["lt", "less than"], ["gt", "greater than"]] as const;
export type FilterOp = (typeof FILTER_OPS)[number][0];
export interface RowFilterValue { column: string; op: FilterOp; value: string | number }

export function RowFilter({ columns, active, onApply }: {
  columns: ColumnInfo[];
  active: RowFilterValue | null;
  onApply: (filter: RowFilterValue | null) => void;
}) {
  const id = useId();
  // Start on the first text column (a name, an email): "contains" on it is the usual first search.
  const firstText = columns.find((c) => !c.primaryKey && affinity(c.type) === "TEXT") ?? columns[0];
  const [column, setColumn] = useState(active?.column ?? firstText?.name ?? "");
  const [op, setOp] = useState<FilterOp>(active?.op ?? "contains");
  const [text, setText] = useState(active ? String(active.value) : "");

  return (
    <form role="search" aria-label="Filter rows" className="flex flex-wrap items-end gap-3 text-sm"
      onSubmit={(e) => {
        e.preventDefault();
        onApply({ column, op, value: filterValue(text, columns.find((c) => c.name === column), op) });
      }}>
      <div className="flex flex-col gap-1">
        <label htmlFor={`${id}-column`}>Filter column</label>
        <select id={`${id}-column`} value={column} onChange={(e) => setColumn(e.target.value)} className={inputClass}>
          {columns.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
        </select>
      </div>
      <div className="flex flex-col gap-1">
        <label htmlFor={`${id}-op`}>Operator</label>
        <select id={`${id}-op`} value={op} onChange={(e) => setOp(e.target.value as FilterOp)} className={inputClass}>
          {FILTER_OPS.map(([v, label]) => <option key={v} value={v}>{label}</option>)}
        </select>
      </div>
      <div className="flex flex-col gap-1">
        <label htmlFor={`${id}-value`}>Filter value</label>
        <input id={`${id}-value`} value={text} onChange={(e) => setText(e.target.value)} className={`${inputClass} w-56`} />
      </div>
      <button type="submit" className={buttonClass.secondary}>Apply filter</button>
      {active && (
        <button type="button" className={buttonClass.secondary} onClick={() => { setText(""); onApply(null); }}>Clear filter</button>
      )}
    </form>
  );
}
