// Replacing the live data file by a restored one: the one swap, used by a restore in place and by the automatic
// restore at start (docs/operations.md#restore-in-place, #automatic-restore). One strategy for both: a data file is
// in place at every instant, so a crash at any point leaves either the old file or the new one at its path, never
// none (the old one is hard-linked into the aside folder first, then the restored file renamed over it).
//   1. the aside folder `Data/<name> <time>/` is made (0700);
//   2. the live data file is hard-linked into it (moved when the file system has no hard links: then a crash
//      before step 4 leaves the file aside, and the next start finds no data file rather than a wrong one);
//   3. its -wal and -shm are moved there (a stale WAL beside the restored file would be replayed into it);
//   4. the restored file is renamed over the data file, and the folder flushed;
//   5. with `moveLog`, the log file and its closed segments follow (a new log chain starts with the restored file):
//      after the rename, so that a crash in between leaves a log that doesn't match the data file, which the next
//      start refuses (1416) with a message, rather than a data file whose operations were silently dropped.
// A failure in 2–4 puts everything back as it was and says so; from 4 on the restored file is in place, and a
// failure is a warning, never "nothing was restored". Nothing is ever deleted.
import fs from "node:fs/promises";
import path from "node:path";
import type { DatabaseLayout } from "../database/layout";
import { SEGMENTS_FOLDER } from "../database/layout";
import { DomainError } from "../errors";
import { fsyncDir } from "../fs/atomic-write";
import { PRIVATE_DIR_MODE } from "../fs/safe-open";
import { STATUS } from "../isomorphic/status";
import { moveIfExists } from "./data-file-tools";

export interface SwapRequest {
  layout: Pick<DatabaseLayout, "dataDir" | "dataFile" | "logFile" | "logSegmentsDir">;
  /** The restored data file, inside Data/ (the same file system: the swap is a rename). */
  restored: string;
  /** The aside folder's name in Data/, e.g. "Replaced data file 20261126-030001" (`-2`, `-3`… when taken). */
  asideName: string;
  /** Also move the log file and its closed segments aside. */
  moveLog: boolean;
}

export interface SwapResult {
  /** Where the replaced files are. */
  folder: string;
  /** What was moved there, for the journal and the console: file names, and "N closed log segment(s) in Log segments/". */
  moved: string[];
  /** What went wrong after the restored file was in place (a flush, moving the log), with what to do. */
  warnings: string[];
}

export async function swapDataFile(req: SwapRequest): Promise<SwapResult> {
  const { layout, restored } = req;
  const folder = await freeName(path.join(layout.dataDir, req.asideName));
  await fs.mkdir(folder, { mode: PRIVATE_DIR_MODE });
  const name = path.basename(layout.dataFile);
  const kept = path.join(/*turbopackIgnore: true*/ folder, name);
  const undo: Array<[from: string, to: string]> = [];
  let linked = false;
  try {
    try {
      await fs.link(layout.dataFile, kept);
      linked = true;
    } catch (err) {
      // No live data file (it went missing): nothing to keep, the restored one simply takes its place.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        // No hard links on this file system: moved instead.
        await fs.rename(layout.dataFile, kept);
        undo.push([layout.dataFile, kept]);
      }
    }
    for (const sidecar of [`${layout.dataFile}-wal`, `${layout.dataFile}-shm`]) {
      const to = path.join(/*turbopackIgnore: true*/ folder, path.basename(sidecar));
      if (await moveIfExists(sidecar, to)) undo.push([sidecar, to]);
    }
    await fs.rename(restored, layout.dataFile);
  } catch (err) {
    for (const [from, to] of undo.reverse()) await fs.rename(to, from).catch(() => undefined);
    if (linked) await fs.rm(kept, { force: true }).catch(() => undefined);
    await fs.rmdir(folder).catch(() => undefined);
    throw new DomainError(STATUS.BACKUP_ERROR, `The restored data file could not be put in place (${(err as Error).message}); ` +
      "the data file was left as it was.", { cause: err });
  }

  const keptData = linked || undo.some(([from]) => from === layout.dataFile);
  const moved = [...(keptData ? [name] : []), ...undo.filter(([from]) => from !== layout.dataFile).map(([from]) => path.basename(from))];
  const warnings: string[] = [];
  try {
    await fsyncDir(layout.dataDir);
    if (req.moveLog) {
      if (await moveIfExists(layout.logFile, path.join(/*turbopackIgnore: true*/ folder, path.basename(layout.logFile)))) moved.push(path.basename(layout.logFile));
      const segments = await fs.readdir(layout.logSegmentsDir).catch(() => [] as string[]);
      if (segments.length) {
        await fs.mkdir(path.join(folder, SEGMENTS_FOLDER), { mode: PRIVATE_DIR_MODE });
        for (const s of segments) await fs.rename(path.join(layout.logSegmentsDir, s), path.join(folder, SEGMENTS_FOLDER, s));
        moved.push(`${segments.length} closed log segment(s) in ${SEGMENTS_FOLDER}/`);
        await fsyncDir(layout.logSegmentsDir);
      }
      await fsyncDir(layout.dataDir);
    }
    await fsyncDir(folder);
  } catch (err) {
    warnings.push(req.moveLog
      ? `Warning: after the restored data file was put in place, the old log could not all be moved to ${folder} ` +
        `(${(err as Error).message}): move ${layout.logFile} and ${layout.logSegmentsDir} there by hand before writing to the database.`
      : `Warning: the folders could not be flushed after the restored data file was put in place: ${(err as Error).message}`);
  }
  return { folder, moved, warnings };
}

/** The restored copy is on disk before it is renamed into place (a log integration commits with synchronous=NORMAL). */
export async function syncFile(file: string): Promise<void> {
  const fh = await fs.open(file, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function freeName(base: string): Promise<string> {
  const exists = (p: string) => fs.lstat(p).then(() => true, () => false);
  if (!(await exists(base))) return base;
  for (let n = 2; ; n++) if (!(await exists(`${base}-${n}`))) return `${base}-${n}`;
}
