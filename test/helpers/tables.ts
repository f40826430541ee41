// What "the same data" means when two data files are compared in tests: every table (Strongbox's bookkeeping
// included, so the last operation is compared too), rows in rowid order.
import Database from "better-sqlite3";

export function tables(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>;
    return Object.fromEntries(names.map(({ name }) => [name, db.prepare(`SELECT rowid AS _rowid, * FROM "${name}" ORDER BY rowid`).all()]));
  } finally {
    db.close();
  }
}
