// One engine per database (docs/database-folder.md): an OS-level lock held for the life of the process. We hold an exclusive
// SQLite lock (fcntl byte-range locks underneath) on a small file in the database's Logs/ folder, which
// Strongbox owns: the kernel drops it when the process dies, even by kill -9, so no stale lock survives a crash.
import Database from "better-sqlite3";
import fs from "node:fs";
import path from "node:path";
import { makePrivateDirSync, PRIVATE_FILE_MODE } from "../fs/safe-open";

export class InstanceLockError extends Error {
  constructor(databaseDir: string) {
    super(
      `Another Strongbox server (or bench or test) is already running on the database ${databaseDir}. ` +
        "Stop it first, or point STRONGBOX_DATABASE at another database.",
    );
    this.name = "InstanceLockError";
  }
}

export interface InstanceLock {
  release(): void;
}

/**
 * Connections holding a lock. better-sqlite3 closes a connection that is garbage-collected, which would drop the
 * lock silently if a caller let go of the InstanceLock object; this keeps each one alive until release().
 */
const held = new Set<Database.Database>();

export const INSTANCE_LOCK_FILE = ".strongbox-server.lock";

export function acquireInstanceLock(databaseDir: string, logsDir = path.join(databaseDir, "Logs")): InstanceLock {
  makePrivateDirSync(logsDir);
  const file = path.join(logsDir, INSTANCE_LOCK_FILE);
  // Created 0600 and never through a link (SQLite would follow one); an existing regular file is opened as it is.
  fs.closeSync(fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, PRIVATE_FILE_MODE));
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma("journal_mode = DELETE");
    db.exec("CREATE TABLE IF NOT EXISTS holder (pid INTEGER, started TEXT)");
    // locking_mode=EXCLUSIVE keeps the lock after the first write transaction until the connection closes.
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
    db.exec("DELETE FROM holder");
    db.prepare("INSERT INTO holder VALUES (?, ?)").run(process.pid, new Date().toISOString());
    db.exec("COMMIT");
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code?.startsWith("SQLITE_BUSY")) {
      throw new InstanceLockError(databaseDir);
    }
    throw err;
  }
  held.add(db);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      held.delete(db);
      db.close();
    },
  };
}

/**
 * Whether a server (any process, this one included) holds the instance lock file `file` now. A file that is missing,
 * not a regular file, or not a lock at all is not held. Opened read-only: nothing is created or changed.
 */
export function isInstanceLockHeld(file: string): boolean {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(file, { throwIfNoEntry: false });
  } catch {
    return false; // a path through a file (ENOTDIR), or a folder we may not look into
  }
  if (!st?.isFile()) return false;
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 0 });
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    return false;
  } catch (err) {
    return ((err as { code?: string }).code ?? "").startsWith("SQLITE_BUSY");
  } finally {
    db?.close();
  }
}
