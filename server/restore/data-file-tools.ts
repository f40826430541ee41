// Small pieces around replacing the live data file (restore in place, automatic restore at start): the work
// folders beside the data file (and removing those a crash left), moving files aside, naming the aside folder.
import fs from "node:fs/promises";
import path from "node:path";

/** Work folders inside Data/: a restore in place's, and an automatic restore's. */
export const RESTORE_IN_PLACE_WORK = ".restore-";
export const AUTOMATIC_RESTORE_WORK = ".automatic-restore-";

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
