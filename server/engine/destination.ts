// Startup check of the destination folder (spec §7 step 1): it must exist, be a folder, and accept a file —
// created for real, since permission bits prove nothing to root.
import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { BackupError, STATUS } from "../status";

export { fsyncDir } from "../fs/atomic-write";

export async function checkDestination(destination: string): Promise<void> {
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
    const fh = await fs.open(probe, "wx");
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
