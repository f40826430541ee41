// Verification as an operation (docs/operations.md#verification): each archive read back against its manifest,
// every result kept per archive in console.sqlite (VerificationStore) for the Restore and History pages.
import path from "node:path";
import type { Trigger } from "../isomorphic/operation-kinds";
import { STATUS } from "../isomorphic/status";
import type { DatabaseContext } from "../operations/database-context";
import type { Task } from "../operations/task";
import type { VerificationStore } from "./verification-store";
import { verifyArchiveFile } from "./verify-archive";

export function verificationTask(db: DatabaseContext, archives: string[], store: VerificationStore, trigger: Trigger): Task {
  return {
    kind: "verify",
    trigger,
    record: { operation: "verification", archivePath: archives.length === 1 ? archives[0] : null, structurePath: db.layout.projectDir },
    stoppedText: "The verification was stopped.",
    // backupHistory.json keeps 4D's kinds of operation (backups, restores, log integrations): a verification is not one.
    recordInHistory: () => false,
    // The journal says when each archive was last proven readable (a block like every other operation's).
    async run(ctx) {
      const { record, details, signal } = ctx;
      ctx.progress.phase("verify", 1);
      let failed = 0;
      for (const [i, archive] of archives.entries()) {
        ctx.progress.update({ currentFile: path.basename(archive), filesDone: i, filesTotal: archives.length }, true);
        const report = await verifyArchiveFile(archive, { signal,
          onProgress: (p) => ctx.progress.update({ bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, percent: 1 + (98 * (i + p.bytesDone / Math.max(1, p.bytesTotal))) / archives.length }) })
          .catch((err: Error) => {
            if (signal.aborted) throw err;
            return { ok: false, problems: [err.message], entries: 0, bytes: 0 };
          });
        store.record(archive, { at: ctx.clock.now().toISOString(), ok: report.ok, problems: report.problems });
        if (!report.ok) failed++;
        const line = report.ok ? `${archive}: verified, ${report.entries} entries match the manifest.` : `${archive}: FAILED — ${report.problems.slice(0, 5).join("; ")}`;
        details.push(line);
        record.notes.push(line);
      }
      if (failed) {
        record.status = STATUS.ARCHIVE_CHECK_FAILED;
        record.statusText = `${failed} of ${archives.length} archive(s) failed the check against their manifest.`;
      } else {
        record.statusText = archives.length === 1 ? "The archive matches its manifest." : `All ${archives.length} archives match their manifests.`;
      }
    },
  };
}
