// Startup check of the destination folder (docs/operations.md#startup): it must exist, be a folder, and accept a
// file — created for real, since permission bits prove nothing to root. Later, when writing into it fails, whether
// the folder itself went away (removed, renamed, unmounted, replaced) — which then is what the backup reports.
import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { destinationProblem } from "../settings/resolve";
import { DomainError } from "../errors";
import { STATUS } from "../isomorphic/status";
import type { StatusError } from "../operations/errors";
import type { TaskContext } from "../operations/task";

/** The destination folder as it was checked at the start of a backup (its identity, not only its path). */
export interface CheckedDestination { path: string; dev: number; ino: number }

/**
 * At each backup, whatever the settings page allowed: the settings file may have been edited by hand. `places`: the
 * database folder and STRONGBOX_HOME, which the destination must keep away from (destinationProblem).
 */
export async function checkDestination(destination: string, places: { databaseDir: string; home: string }): Promise<CheckedDestination> {
  const refused = await destinationProblem(destination, places);
  if (refused) throw new DomainError(STATUS.DESTINATION_INVALID, `The destination folder ${destination} (General/DestinationFolder in the settings) ${refused}.`);
  const st = await fs.stat(destination).catch((err: NodeJS.ErrnoException) => {
    throw new DomainError(STATUS.DESTINATION_INVALID,
      err.code === "ENOENT" || err.code === "ENOTDIR"
        ? `The destination folder ${destination} does not exist. Create it or choose another one in the settings.`
        : `The destination folder ${destination} can't be reached (${err.code}).`);
  });
  if (!st.isDirectory()) {
    throw new DomainError(STATUS.DESTINATION_INVALID, `The destination ${destination} is not a folder. Choose a folder in the settings.`);
  }
  const probe = path.join(destination, `.strongbox-probe-${crypto.randomBytes(6).toString("hex")}`);
  try {
    const fh = await fs.open(probe, "wx", 0o600);
    try {
      await fh.write("probe");
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new DomainError(STATUS.DESTINATION_INVALID,
      `The destination folder ${destination} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  } finally {
    await fs.rm(probe, { force: true }).catch(() => undefined);
  }
  return { path: destination, dev: st.dev, ino: st.ino };
}

/**
 * When a backup fails while writing into its destination, whether the folder is the cause: gone from its path, or
 * another folder in its place, or the temporary archive removed from it. Then that is the failure (1407), whatever
 * error the write, the verification or the commit happened to meet first (a missing file, a failed check). Null
 * when the folder and the temporary archive are still there.
 */
export async function destinationLoss(checked: CheckedDestination, tempArchive: string | null): Promise<DomainError | null> {
  const now = await fs.stat(checked.path).catch(() => null);
  if (!now || !now.isDirectory() || now.dev !== checked.dev || now.ino !== checked.ino) {
    const how = now ? "was replaced by another folder" : "disappeared";
    return new DomainError(STATUS.DESTINATION_INVALID, `Destination folder not valid: ${checked.path} ${how} during the backup. ` +
      "Check the disk or the folder, then back up again (this backup's temporary files went wherever the folder went).");
  }
  if (tempArchive && !(await fs.stat(tempArchive).then(() => true, () => false))) {
    return new DomainError(STATUS.DESTINATION_INVALID, `Destination folder not valid: the temporary archive ${tempArchive} disappeared ` +
      "during the backup (did another program clean the folder?). Back up again.");
  }
  return null;
}

/**
 * A backup's failure as it is recorded: a destination that went away (or lost the temporary archive) before the
 * commit is the cause, whatever error the write, the verification or the rename happened to meet first. Null:
 * the failure stands as it is.
 */
export async function destinationFailure(err: unknown, mapped: StatusError, ctx: TaskContext, reached: { destination: CheckedDestination | null; writing: string | null }): Promise<StatusError | null> {
  if (ctx.signal.aborted || !reached.destination || ctx.record.archive) return null;
  // The temporary archive is looked for only when a file was found missing (by a write, the verification's read or
  // the commit's rename): before the writer has created it, it is simply not there yet.
  const missing = (err as NodeJS.ErrnoException)?.code === "ENOENT" || mapped.status === STATUS.ARCHIVE_CHECK_FAILED;
  return (await destinationLoss(reached.destination, missing ? reached.writing : null)) as StatusError | null;
}
