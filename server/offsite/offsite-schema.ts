// The off-site tables of console.sqlite, in one place: the destination, the off-site settings, and the multipart
// uploads under way (so that an upload interrupted by a Stop, a crash or a restart resumes where it stopped).
// These statements are meant to move as they are into the console's versioned schema once it exists; until then
// ensureOffsiteSchema creates what is missing, and every off-site module calls it before touching these tables.
import type { ConsoleDb } from "../console/console-db";

const SCHEMA = `
-- One destination for now (id 1); the key leaves room for more. The secret is sealed by secret-box.ts.
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

const done = new WeakSet<ConsoleDb>();

/** Creates the off-site tables when missing (once per connection). */
export function ensureOffsiteSchema(db: ConsoleDb): void {
  if (done.has(db)) return;
  db.exec(SCHEMA);
  done.add(db);
}
