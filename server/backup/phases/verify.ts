// The archive read back before it is committed (CheckArchiveFileDuringBackup): every entry inflated and checked
// against the size and SHA-256 the manifest records. A failure is 1411 and nothing is committed.
import { DomainError } from "../../errors";
import { STATUS } from "../../isomorphic/status";
import type { TaskContext } from "../../operations/task";
import { verifyArchive } from "../../zip/zip-reader";
import type { Written } from "./archive";
import type { Started } from "../backup-run";

/** True when the archive was verified, false when the settings skip it. */
export async function verifyWritten(ctx: TaskContext, started: Started, written: Written): Promise<boolean> {
  if (!started.settings.settings.advanced.checkArchiveFileDuringBackup) return false;
  ctx.progress.update({ phase: "verify", percent: 90, currentFile: null }, true);
  const expected = written.manifestEntries.filter((e) => e.kind !== "directory").map((e) => ({ name: e.path, size: e.size, sha256: e.sha256 }));
  const check = await verifyArchive(started.tempArchive, expected, {
    signal: ctx.signal,
    onProgress: (p) => ctx.progress.update({ percent: 90 + (9 * p.bytesDone) / Math.max(1, written.bytesTotal) }),
  });
  if (!check.ok) {
    throw new DomainError(STATUS.ARCHIVE_CHECK_FAILED, `The archive failed its check against the manifest: ${check.problems.slice(0, 5).join("; ")}`);
  }
  return true;
}
