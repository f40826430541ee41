// Child process: takes the transactionally consistent copy of the data file with VACUUM INTO (spec §3), off the
// server's event loop. A process rather than a worker thread because a native VACUUM INTO can't be interrupted
// from another thread, and Stop must land within a second: the parent kills this process. Plain JS, so that it
// runs as it is under the tests and beside the Next server.
import Database from "better-sqlite3";

// Whatever SQLite creates here (the copy, its journal) is readable by the server's user only.
process.umask(0o077);

process.once("message", ({ source, target, table }) => {
  try {
    const db = new Database(source, { readonly: true, fileMustExist: true });
    // Another process holding the data file's lock delays the snapshot rather than failing it; a Stop kills us.
    db.pragma("busy_timeout = 120000");
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
    process.send({ ok: true, bookkeeping }, () => process.exit(0));
  } catch (err) {
    process.send({ ok: false, message: String(err?.message ?? err) }, () => process.exit(1));
  }
});
