// Is the data file usable, checked at start before anything opens it (docs/operations.md#automatic-restore)? A
// damaged one (SQLITE_CORRUPT, SQLITE_NOTADB, a failed quick_check) is what the automatic restore replaces; a
// missing or unreadable one is not damage, and nothing is restored over it. Also what the start found, as the
// Backup page shows it.
import Database from "better-sqlite3";
import fs from "node:fs/promises";
import path from "node:path";

export type DataFileCheck =
  | { state: "ok" }
  /** The file, or the folder (disk) holding it, is not there: not damage, and nothing to restore over. */
  | { state: "missing"; message: string }
  /** It is there but can't be examined (permissions, I/O error, locked): not damage either; nothing is touched. */
  | { state: "unreadable"; message: string }
  | { state: "damaged"; reason: string };

/** quick_check lines quoted in a reason: enough to say what is wrong without pasting hundreds of "never used" lines. */
const REASON_LINES = 3;

const exists = (p: string) => fs.lstat(p).then(() => true, () => false);

/**
 * Is the data file usable? Opened read-only and checked with `PRAGMA quick_check` (every page and b-tree read;
 * O(N), without the index cross-checks of integrity_check). Read-only means nothing is written to a damaged file;
 * but SQLite opens a WAL database's -wal and -shm even then (creating them when absent, and a read-only
 * connection can't remove them on close): those it created are removed again, so a healthy database is left as
 * it was. That is safe here because the server holds the database's instance lock at start, so no other
 * connection of ours can be using them.
 */
export async function checkDataFile(dataFile: string): Promise<DataFileCheck> {
  const st = await fs.stat(dataFile).catch((err: NodeJS.ErrnoException) => err);
  if (st instanceof Error) {
    if (st.code === "ENOENT" || st.code === "ENOTDIR") return { state: "missing", message: await missingMessage(dataFile) };
    return { state: "unreadable", message: `The data file ${dataFile} can't be examined (${st.code ?? st.message}). Check its permissions and its disk.` };
  }
  if (!st.isFile()) return { state: "unreadable", message: `${dataFile} is not a file, so it can't be the data file.` };

  const sidecars = [`${dataFile}-wal`, `${dataFile}-shm`];
  const had = await Promise.all(sidecars.map(exists));
  let db: Database.Database | null = null;
  try {
    db = new Database(dataFile, { readonly: true, fileMustExist: true });
    const rows = db.pragma("quick_check") as Array<{ quick_check: string }>;
    const lines = rows.flatMap((r) => String(r.quick_check).split("\n")).filter((l) => l && !l.startsWith("*** in database"));
    if (rows.length === 1 && rows[0]!.quick_check === "ok") return { state: "ok" };
    const more = lines.length > REASON_LINES ? ` (and ${lines.length - REASON_LINES} more problem(s))` : "";
    return { state: "damaged", reason: `quick_check found: ${lines.slice(0, REASON_LINES).join("; ")}${more}` };
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? "");
    if (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB") {
      return { state: "damaged", reason: `SQLite reports ${code}: ${(err as Error).message}` };
    }
    return { state: "unreadable", message: `The data file ${dataFile} can't be opened (${code || "error"}: ${(err as Error).message}). ` +
      "This is not damage SQLite recognises, so it was not restored automatically: check its permissions and its disk." };
  } finally {
    db?.close();
    for (const [i, file] of sidecars.entries()) {
      if (had[i]) continue;
      // A -wal we created is empty (read-only writes nothing); one that holds frames is never ours to remove.
      const size = await fs.stat(file).then((s) => s.size, () => null);
      if (size !== null && (i === 1 || size === 0)) await fs.rm(file, { force: true }).catch(() => undefined);
    }
  }
}

/** Which part is gone: the file, or a folder on the way to it (an unmounted disk looks like that). */
async function missingMessage(dataFile: string): Promise<string> {
  let dir = path.dirname(dataFile);
  let gone: string | null = null;
  while (!(await fs.stat(dir).then((s) => s.isDirectory(), () => false))) {
    gone = dir;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  if (gone) {
    return `The folder ${gone}, which holds the data file ${dataFile}, is missing (is its disk mounted?). Nothing was restored: ` +
      "a missing data file is not a damaged one. Mount the disk or put the folder back, then restart the server.";
  }
  return `The data file ${dataFile} is missing. Nothing was restored: a missing data file is not a damaged one. ` +
    "Put it back, or restore it from the Restore page.";
}

export type LogIntegrationResult = { applied: number; lastOperation: number } | { problem: string };

export type StartupRestore =
  | { outcome: "missing" | "unreadable"; message: string }
  /** Damaged, and AutomaticRestore is off: nothing was changed. */
  | { outcome: "off"; damage: string; message: string }
  | {
      outcome: "restored";
      damage: string;
      /** The archive the data file came from. */
      restoredFrom: string;
      backupNumber: number;
      /** `Data/Damaged data file <time>/`: the damaged file with its -wal/-shm (and the old log, when a new chain starts). */
      damagedKeptIn: string;
      logIntegration: LogIntegrationResult;
      /** True when the log could not bring the file up to the current log: the database got a new id and a new log. */
      newLogChain: boolean;
      notes: string[];
      message: string;
    }
  /** Damaged, and no valid backup (or the restore itself failed): the damaged file is where it was. */
  | { outcome: "failed"; damage: string; message: string; notes: string[] };
