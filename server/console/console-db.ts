// console.sqlite: the console's own state — users and API tokens, the operations ledger that lets the next start
// find an operation a crash interrupted, the last attempts, alerts and the failure series of automatic backups,
// verifications, the off-site destination and uploads. Never inside the database folder, so it never goes into an
// archive. Its schema lives here and only here, versioned: PRAGMA user_version counts the migrations applied.
import Database from "better-sqlite3";
import fs from "node:fs";
import path from "node:path";
import { makePrivateDirSync, PRIVATE_FILE_MODE } from "../fs/safe-open";

export type ConsoleDb = Database.Database;

/**
 * Migration 1: the schema as release 0.1.0 left it. That release had no version (user_version 0) and made most
 * tables lazily, so a file from it has some of them or all: every statement is IF NOT EXISTS, and the one column
 * added during 0.1.0's life (users.session_version) is added when missing.
 */
const RELEASE_0_1_0 = `
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reuse an id: a session names its user by id
  username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  created_at TEXT NOT NULL,
  session_version INTEGER NOT NULL DEFAULT 0 -- bumped to end every session of the user (see server/auth/users.ts)
);
-- The operations ledger (server/operations/ledger.ts): a row per operation from the point a crash would leave
-- something behind.
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
-- API tokens: only the SHA-256 of the secret is kept; a revoked token's row is deleted.
CREATE TABLE IF NOT EXISTS api_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reuse an id: a running stream re-checks its token by id
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  secret_hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  created_at TEXT NOT NULL,
  created_by TEXT,
  last_used_at TEXT
);
-- The last attempt of each kind, also when its history entry could not be written (server/operations/last-attempts.ts).
CREATE TABLE IF NOT EXISTS last_attempts (
  database_dir TEXT NOT NULL, kind TEXT NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (database_dir, kind));
-- The data file as the last snapshot found it, for BackupIfDataChange (server/data/data-change.ts).
CREATE TABLE IF NOT EXISTS snapshot_marks (database_dir TEXT PRIMARY KEY, size INTEGER, mtime_ms REAL,
  wal_size INTEGER, wal_mtime_ms REAL, last_operation INTEGER);
-- Alerts raised when automatic backups fail (server/automation/alerts.ts).
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, status INTEGER NOT NULL, text TEXT NOT NULL,
  database_dir TEXT NOT NULL, scheduled_at TEXT, acknowledged_at TEXT, acknowledged_by TEXT);
-- Console settings by key: the alert webhook, the heartbeat (last_alive), the initial admin.
CREATE TABLE IF NOT EXISTS console_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- The failure series of automatic backups and a pending retry, kept across a restart (server/automation/failure-series.ts).
CREATE TABLE IF NOT EXISTS automation_series (
  database_dir TEXT PRIMARY KEY, failures INTEGER NOT NULL, retry_at TEXT, attempt INTEGER, scheduled_date TEXT, reason TEXT);
-- Verifications: each archive's last result, and the schedule (server/restore/verification-store.ts).
CREATE TABLE IF NOT EXISTS archive_verifications (archive_path TEXT PRIMARY KEY, at TEXT NOT NULL, ok INTEGER NOT NULL, problems TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS verification_schedule (id INTEGER PRIMARY KEY CHECK (id = 1), frequency TEXT NOT NULL, hour INTEGER NOT NULL,
  weekday INTEGER NOT NULL, last_run TEXT);
-- Off-site copies (server/offsite/). One destination for now (id 1); the key leaves room for more. The secret is
-- sealed by secret-box.ts.
CREATE TABLE IF NOT EXISTS offsite_destinations (
  id INTEGER PRIMARY KEY,
  endpoint TEXT NOT NULL,
  region TEXT NOT NULL,
  bucket TEXT NOT NULL,
  prefix TEXT NOT NULL,
  force_path_style INTEGER NOT NULL CHECK (force_path_style IN (0, 1)),
  access_key_id TEXT NOT NULL,
  secret_sealed TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT
);
-- The off-site settings: one row. A console setting, never in Settings/Backup.4DSettings, which goes into every
-- archive. The encryption key is the one derived from the passphrase (sealed); the passphrase itself is never kept.
CREATE TABLE IF NOT EXISTS offsite_settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  keep_last INTEGER CHECK (keep_last IS NULL OR keep_last >= 1),
  lock_days INTEGER NOT NULL DEFAULT 0 CHECK (lock_days >= 0),
  lock_mode TEXT NOT NULL DEFAULT 'COMPLIANCE' CHECK (lock_mode IN ('COMPLIANCE', 'GOVERNANCE')),
  log_interval_seconds INTEGER NOT NULL DEFAULT 60 CHECK (log_interval_seconds >= 5),
  encryption_key_sealed TEXT,
  encryption_key_check TEXT,
  updated_at TEXT NOT NULL
);
-- Multipart uploads under way, one per object: what is needed to resume after a restart, and to check that the
-- local file is still the one being sent.
CREATE TABLE IF NOT EXISTS offsite_uploads (
  upload_id TEXT PRIMARY KEY,
  endpoint TEXT NOT NULL,
  bucket TEXT NOT NULL,
  object_key TEXT NOT NULL,
  local_path TEXT NOT NULL,
  local_size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  object_size INTEGER NOT NULL,
  part_size INTEGER NOT NULL,
  cipher_file_id TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (endpoint, bucket, object_key)
);
CREATE TABLE IF NOT EXISTS offsite_upload_parts (
  upload_id TEXT NOT NULL,
  part_number INTEGER NOT NULL,
  etag TEXT NOT NULL,
  md5 TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (upload_id, part_number)
);
`;

const hasColumn = (db: ConsoleDb, table: string, column: string) =>
  (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as Array<{ name: string }>).some((c) => c.name === column);
const addColumnIfMissing = (db: ConsoleDb, table: string, column: string, definition: string) => {
  if (!hasColumn(db, table, column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
};

/**
 * The migrations, in order, never edited once released: a new change is a new one at the end. Migration N brings
 * a file at user_version N-1 to N. A file from before versions (0) may already hold some of a migration's changes
 * (the release it came from made them lazily), so each step checks before it adds.
 */
export const MIGRATIONS: ReadonlyArray<{ what: string; up: (db: ConsoleDb) => void }> = [
  {
    what: "the schema of release 0.1.0",
    up: (db) => {
      db.exec(RELEASE_0_1_0);
      addColumnIfMissing(db, "users", "session_version", "INTEGER NOT NULL DEFAULT 0");
    },
  },
  {
    what: "passwords an admin set must be changed; when a password was last changed",
    up: (db) => {
      // 1: an admin set this password; the user must choose their own at next sign-in (see server/auth/users.ts).
      addColumnIfMissing(db, "users", "must_change_password", "INTEGER NOT NULL DEFAULT 0");
      // When the password was last changed after the user was made (null: still the one it was made with).
      addColumnIfMissing(db, "users", "password_changed_at", "TEXT");
    },
  },
];

/** The schema version this code writes: the number of migrations. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens (creating it when missing) the console's database and brings its schema up to date. It holds password
 * hashes and token hashes: the file and its -wal/-shm are readable by the server's user only (0600, also for files
 * an earlier version made 0644; SQLite gives -wal/-shm the main file's mode), its folder is created 0700, and a
 * symbolic link at any of the three names is refused rather than followed. A file a newer release wrote is refused
 * (this code would not know its tables) and left as it is.
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
  try {
    db.pragma("busy_timeout = 5000");
    refuseNewer(db, file); // before anything is written, WAL mode included
    db.pragma("journal_mode = WAL");
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function refuseNewer(db: ConsoleDb, file: string): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new Error(`${file} was written by a newer Strongbox (console schema version ${version}; this one knows up to ${SCHEMA_VERSION}): ` +
      "start that release again, or restore a copy of the file made by this one. The file was not changed.");
  }
}

/** Applies the migrations the file lacks, each with its new version in one transaction (a crash leaves either). */
function migrate(db: ConsoleDb): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      MIGRATIONS[v]!.up(db);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
