// Small pieces both ways of replacing the live data file share (restore in place, automatic restore at start):
// reading and changing a data file's bookkeeping, moving files aside, naming the aside folder, and removing the
// work folders a crash left beside the data file.
import Database from "better-sqlite3";
import fs from "node:fs/promises";
import path from "node:path";
import { BOOKKEEPING_TABLE, readBookkeeping, type Bookkeeping } from "../data/bookkeeping";

/** Work folders inside Data/: a restore in place's, and an automatic restore's. */
export const RESTORE_IN_PLACE_WORK = ".restore-";
export const AUTOMATIC_RESTORE_WORK = ".automatic-restore-";

/** A data file's bookkeeping (database id, last operation), or null for a file Strongbox never managed. */
export function bookkeepingOf(dataFile: string): Bookkeeping | null {
  const db = new Database(dataFile, { readonly: true, fileMustExist: true });
  try {
    return readBookkeeping(db);
  } finally {
    db.close();
  }
}

/** Gives a restored data file a new database id (a new log chain starts with it); returns its bookkeeping. */
export function setDatabaseId(dataFile: string, id: string): Bookkeeping {
  const db = new Database(dataFile, { fileMustExist: true });
  try {
    db.prepare(`UPDATE ${BOOKKEEPING_TABLE} SET value = ? WHERE key = 'database_id'`).run(id);
    return readBookkeeping(db)!;
  } finally {
    db.close();
  }
}

/** Renames `from` to `to`; false when `from` doesn't exist. */
export async function moveIfExists(from: string, to: string): Promise<boolean> {
  try {
    await fs.rename(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/** `20261126-030001` (UTC) for the names of the folders the old files are kept in. */
export const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);

/** Removes the work folders a crash during a restore left in Data/ (only ours, by their prefix); returns their names. */
export async function removeLeftRestoreWork(dataDir: string): Promise<string[]> {
  const names = await fs.readdir(dataDir).catch(() => [] as string[]);
  const left = names.filter((n) => n.startsWith(RESTORE_IN_PLACE_WORK) || n.startsWith(AUTOMATIC_RESTORE_WORK));
  for (const n of left) await fs.rm(path.join(/*turbopackIgnore: true*/ dataDir, n), { recursive: true, force: true }).catch(() => undefined);
  return left;
}
