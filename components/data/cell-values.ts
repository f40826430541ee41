// What the Data page's text inputs mean as cell values: numbers for the columns SQLite gives a numeric affinity,
// an emptied field of a nullable column as NULL, and cells shown back as text.

export type Cell = string | number | boolean | null;

export interface ColumnInfo { name: string; type: string; primaryKey: boolean; notNull: boolean }

export type Affinity = "INTEGER" | "REAL" | "NUMERIC" | "TEXT" | "BLOB";

/** SQLite's rules for a declared type's affinity (https://sqlite.org/datatype3.html §3.1), in the same order. */
export function affinity(declared: string): Affinity {
  const t = declared.toUpperCase();
  if (t.includes("INT")) return "INTEGER";
  if (t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT")) return "TEXT";
  if (t.includes("BLOB") || t === "") return "BLOB";
  if (t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB")) return "REAL";
  return "NUMERIC";
}

const isNumeric = (c: ColumnInfo) => ["INTEGER", "REAL", "NUMERIC"].includes(affinity(c.type));
/** BLOBs don't go through the data API (write-ops.ts): their cells are shown, never edited. */
export const isEditable = (c: ColumnInfo) => affinity(c.type) !== "BLOB" || c.type === "";

/** A cell as the text an input shows ("" for NULL; the input's placeholder says NULL). */
export function cellText(v: Cell | undefined): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "boolean") return v ? "1" : "0";
  return String(v);
}

/**
 * The value to send for what was typed in a column's input. Numbers for numeric columns when the text is a
 * number (otherwise the text goes as it is, and SQLite's affinity or the server decides); empty means NULL except
 * in a NOT NULL text column, where it is the empty string.
 */
export function cellValue(text: string, column: ColumnInfo): Cell {
  if (text === "") return column.notNull && !isNumeric(column) ? "" : null;
  if (isNumeric(column)) {
    const trimmed = text.trim();
    if (trimmed !== "" && Number.isFinite(Number(trimmed))) return Number(trimmed);
  }
  return text;
}

/** A filter value: a number for comparisons on numeric columns, text otherwise ("contains" always compares text). */
export function filterValue(text: string, column: ColumnInfo | undefined, op: string): string | number {
  if (column && op !== "contains" && isNumeric(column)) {
    const trimmed = text.trim();
    if (trimmed !== "" && Number.isFinite(Number(trimmed))) return Number(trimmed);
  }
  return text;
}

const numberFormat = new Intl.NumberFormat("en-US");
export const formatCount = (n: number) => numberFormat.format(n);
