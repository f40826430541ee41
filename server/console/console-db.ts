// console.sqlite: the console's own state (spec §1) — users, API tokens, and the operations ledger that lets the
// next start find a backup interrupted by a crash. Never inside the database folder, so it never goes into an archive.
import Database from "better-sqlite3";
import fs from "node:fs";
import path from "node:path";
import { makePrivateDirSync, PRIVATE_FILE_MODE } from "../fs/safe-open";

export type ConsoleDb = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reuse an id: a session names its user by id
  username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  created_at TEXT NOT NULL,
  session_version INTEGER NOT NULL DEFAULT 0, -- bumped to end every session of the user (see server/auth/users.ts)
  must_change_password INTEGER NOT NULL DEFAULT 0, -- an admin set the password: the user must change it at next sign-in
  password_changed_at TEXT -- null while the password is the one the user was made with
);
CREATE TABLE IF NOT EXISTS operations (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('running', 'recorded', 'finished', 'recovered')),
  database_dir TEXT NOT NULL,
  backup_number INTEGER,
  trigger_kind TEXT NOT NULL,
  trigger_user TEXT,
  scheduled_at TEXT,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  status INTEGER,
  temp_paths TEXT NOT NULL DEFAULT '[]',
  archive_path TEXT
);
-- API tokens (spec §11): only the SHA-256 of the secret is kept; a revoked token's row is deleted.
CREATE TABLE IF NOT EXISTS api_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reuse an id: a running stream re-checks its token by id
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  secret_hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  created_at TEXT NOT NULL,
  created_by TEXT,
  last_used_at TEXT
);
`;

/**
 * Opens (creating it when missing) the console's database. It holds password hashes and token hashes: the file and
 * its -wal/-shm are readable by the server's user only (0600, also for files an earlier version made 0644; SQLite
 * gives -wal/-shm the main file's mode), its folder is created 0700, and a symbolic link at any of the three names
 * is refused rather than followed.
 */
export function openConsoleDb(file: string): ConsoleDb {
  makePrivateDirSync(path.dirname(file));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    const st = fs.lstatSync(f, { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) throw new Error(`${f} is a symbolic link: the server does not follow links for its console database. Replace it by the file itself, or remove it.`);
    if (st && !st.isFile()) throw new Error(`${f} is not a regular file: the console database must be one.`);
    if (st && (st.mode & 0o077) !== 0) fs.chmodSync(f, PRIVATE_FILE_MODE);
  }
  // Created here first, 0600, so that SQLite opens an existing private file rather than making one by the umask.
  fs.closeSync(fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, PRIVATE_FILE_MODE));
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  db.exec(SCHEMA);
  addMissingColumns(db);
  return db;
}

/** Columns added since a file could have been created: a console.sqlite from an older version gets them here. */
function addMissingColumns(db: ConsoleDb): void {
  const has = (table: string, column: string) =>
    (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as Array<{ name: string }>).some((c) => c.name === column);
  if (!has("users", "session_version")) db.exec("ALTER TABLE users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 0");
  // 1: an admin set this password; the user must choose their own at next sign-in (see server/auth/users.ts).
  if (!has("users", "must_change_password")) db.exec("ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0");
  // When the password was last changed after the user was made (null: still the one it was made with).
  if (!has("users", "password_changed_at")) db.exec("ALTER TABLE users ADD COLUMN password_changed_at TEXT");
}
