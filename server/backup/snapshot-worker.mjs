// Child process: takes the transactionally consistent copy of the data file off the server's event loop, pinned at a
// point the server chooses while it holds the data write lock. A process rather than a worker thread so that a Stop
// ends it at once wherever it is (the parent kills it, and with it its read transaction). Plain JS, so that it runs as
// it is under the tests and beside the Next server.
//
// Conversation (IPC, JSON), one step at a time:
//   parent {source, target, table, pagesPerStep, syncEveryBytes} -> child opens the data file       -> {ready}
//   parent {pin}  (data write lock held, no write running)   -> child opens its read transaction   -> {pinned, bookkeeping, wal}
//   parent {copy} (the log is cut at that point, the lock is released) -> child copies inside it -> {done, bytes}
//   any failure -> {error: message}, and the child ends.
// The copy is SQLite's online backup, stepped, inside that one read transaction: in WAL mode it reads exactly the
// state at the pin while the server's writers go on committing (VACUUM INTO can't run inside a transaction).
import Database from "better-sqlite3";
import fs from "node:fs";

// Whatever SQLite creates here (the copy, its journal) is readable by the server's user only.
process.umask(0o077);

const send = (m) => new Promise((resolve) => process.send(m, resolve));

/** The bookkeeping as the snapshot sees it; null when the data file has no bookkeeping table. */
function readBookkeeping(db, table) {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)) return null;
  const map = new Map(db.prepare(`SELECT key, value FROM ${table}`).all().map((r) => [r.key, r.value]));
  return { databaseId: map.get("database_id") ?? "", lastOperation: Number(map.get("last_operation") ?? 0) };
}

let job = null;
let db = null;

async function copy() {
  const { target, pagesPerStep, syncEveryBytes } = job;
  const pageSize = db.pragma("page_size", { simple: true });
  // The copy's pages reach the disk a few MiB at a time rather than in one flush of the whole file at its end, which
  // would make the server's own flushes (each write's log record) wait behind it.
  let fd = null;
  let synced = 0;
  try {
    await db.backup(target, {
      progress: ({ totalPages, remainingPages }) => {
        const done = (totalPages - remainingPages) * pageSize;
        if (syncEveryBytes && done - synced >= syncEveryBytes) {
          fd ??= fs.openSync(target, "r+");
          fs.fdatasyncSync(fd);
          synced = done;
        }
        return pagesPerStep;
      },
    });
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
  db.exec("COMMIT");
  db.close();
  db = null;
  // The copy carries the data file's "WAL" mark in its header; an archived data file is a plain rollback-journal file
  // (as VACUUM INTO made it), which any reader opens without making -wal/-shm files beside it.
  const out = new Database(target, { fileMustExist: true });
  out.pragma("journal_mode = DELETE");
  out.close();
  return fs.statSync(target).size;
}

process.on("message", async (msg) => {
  try {
    if (!job) {
      job = msg;
      db = new Database(job.source, { readonly: true, fileMustExist: true });
      // Another process holding the data file's lock delays the snapshot rather than failing it; a Stop kills us.
      db.pragma("busy_timeout = 120000");
      await send({ ready: true });
    } else if (msg.pin) {
      // BEGIN is deferred: the first read below opens the read transaction, and the snapshot's point is fixed there.
      db.exec("BEGIN");
      const bookkeeping = readBookkeeping(db, job.table);
      // Only in WAL mode does this read transaction leave writers free to commit (in a rollback-journal mode its
      // shared lock makes every commit wait): the parent keeps the write lock for the copy otherwise.
      const wal = db.pragma("journal_mode", { simple: true }) === "wal";
      await send({ pinned: true, bookkeeping, wal });
    } else if (msg.copy) {
      const bytes = await copy();
      await send({ done: true, bytes });
      process.exit(0);
    }
  } catch (err) {
    await send({ error: String(err?.message ?? err) });
    process.exit(1);
  }
});
