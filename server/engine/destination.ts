// Startup check of the destination folder (spec §7 step 1): it must exist, be a folder, and accept a file —
// created for real, since permission bits prove nothing to root.
import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { destinationProblem } from "../settings/resolve";
import { BackupError, STATUS } from "../status";

export { fsyncDir } from "../fs/atomic-write";

/**
 * At each backup, whatever the settings page allowed: the settings file may have been edited by hand. `places`: the
 * database folder and STRONGBOX_HOME, which the destination must keep away from (destinationProblem).
 */
export async function checkDestination(destination: string, places: { databaseDir: string; home: string }): Promise<void> {
  const refused = await destinationProblem(destination, places);
  if (refused) throw new BackupError(STATUS.DESTINATION_INVALID, `The destination folder ${destination} (General/DestinationFolder in the settings) ${refused}.`);
  const st = await fs.stat(destination).catch((err: NodeJS.ErrnoException) => {
    throw new BackupError(STATUS.DESTINATION_INVALID,
      err.code === "ENOENT" || err.code === "ENOTDIR"
        ? `The destination folder ${destination} does not exist. Create it or choose another one in the settings.`
        : `The destination folder ${destination} can't be reached (${err.code}).`);
  });
  if (!st.isDirectory()) {
    throw new BackupError(STATUS.DESTINATION_INVALID, `The destination ${destination} is not a folder. Choose a folder in the settings.`);
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
    throw new BackupError(STATUS.DESTINATION_INVALID,
      `The destination folder ${destination} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  } finally {
    await fs.rm(probe, { force: true }).catch(() => undefined);
  }
}
