// Worker thread: takes the transactionally consistent copy of the data file with VACUUM INTO (spec §3), off
// the event loop (a 160 MB VACUUM INTO blocks its thread about a second). Plain JS so that it loads as it is
// both under the tests and in the Next server.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const { source, target, table } = workerData;
try {
  const db = new Database(source, { readonly: true, fileMustExist: true });
  db.pragma("busy_timeout = 10000");
  db.prepare("VACUUM INTO ?").run(target);
  db.close();
  const snap = new Database(target, { readonly: true });
  let bookkeeping = null;
  if (snap.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)) {
    const rows = snap.prepare(`SELECT key, value FROM ${table}`).all();
    const map = new Map(rows.map((r) => [r.key, r.value]));
    bookkeeping = { databaseId: map.get("database_id") ?? "", lastOperation: Number(map.get("last_operation") ?? 0) };
  }
  snap.close();
  parentPort.postMessage({ ok: true, bookkeeping });
} catch (err) {
  parentPort.postMessage({ ok: false, message: String(err?.message ?? err), code: err?.code ?? null });
}
