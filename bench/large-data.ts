// The large data file for the stall bench: the reference data file grown to 2 GiB by copying its own rows (orders,
// documents with their thumbnails, events) under new keys, so it has the reference's shape and compressibility.
// Built once and cached beside the reference set; the marker records how long the build took.
import Database from "better-sqlite3";
import fs from "node:fs";
import path from "node:path";

const VERSION = 1;
export const LARGE_DATA_BYTES = 2 * 2 ** 30;

export function ensureLargeDataFile(referenceDataFile: string, dir: string): { dataFile: string; buildSeconds: number } {
  const dataFile = path.join(dir, "data.sqlite");
  const marker = path.join(dir, `.complete-v${VERSION}`);
  if (fs.existsSync(marker)) return { dataFile, buildSeconds: JSON.parse(fs.readFileSync(marker, "utf8")).buildSeconds };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  fs.copyFileSync(referenceDataFile, dataFile);
  const db = new Database(dataFile);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = OFF");
    const ids = (table: string) => db.prepare(`SELECT min(id) AS lo, max(id) AS hi FROM ${table}`).get() as { lo: number; hi: number };
    const orders = ids("orders"), documents = ids("documents"), events = ids("events");
    // One slice of each original table per transaction, until the file is big enough.
    const SLICE = 20_000;
    for (let off = 0; fs.statSync(dataFile).size < LARGE_DATA_BYTES; off = (off + SLICE) % Math.max(orders.hi - orders.lo + 1, 1)) {
      db.transaction(() => {
        db.prepare("INSERT INTO orders (customer_id, ordered, status, amount, items) SELECT customer_id, ordered, status, amount, items FROM orders WHERE id BETWEEN ? AND ?")
          .run(orders.lo + off, orders.lo + off + SLICE - 1);
        const d = Math.floor(off / 10), e = Math.floor(off / 2);
        db.prepare("INSERT INTO documents (title, body, thumbnail) SELECT title, body, thumbnail FROM documents WHERE id BETWEEN ? AND ?")
          .run(documents.lo + d, documents.lo + d + SLICE / 10 - 1);
        db.prepare("INSERT INTO events (ts, level, message) SELECT ts, level, message FROM events WHERE id BETWEEN ? AND ?")
          .run(events.lo + e, events.lo + e + SLICE / 2 - 1);
      })();
      db.pragma("wal_checkpoint(TRUNCATE)");
    }
  } finally {
    db.close();
  }
  const buildSeconds = (performance.now() - t0) / 1000;
  fs.writeFileSync(marker, JSON.stringify({ builtAt: new Date().toISOString(), buildSeconds, bytes: fs.statSync(dataFile).size }) + "\n");
  return { dataFile, buildSeconds };
}

// `npx tsx bench/large-data.ts` builds it by itself.
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const here = path.dirname(import.meta.filename);
  const r = ensureLargeDataFile(path.join(here, ".cache/reference/database/Data/data.sqlite"), path.join(here, ".cache/large"));
  console.log(JSON.stringify({ ...r, bytes: fs.statSync(r.dataFile).size }));
}
