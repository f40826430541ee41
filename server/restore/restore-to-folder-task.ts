// A restore to a folder as an operation (docs/operations.md#restore-to-a-folder): the chosen parts of an archive,
// each entry checked, into a new folder; then, when asked, the log integrated into the restored data file.
import path from "node:path";
import { readArchiveContents, restoredContent, selectParts, type PartSelection } from "../archive/contents";
import { DATA_FILE_ENTRY } from "../database/layout";
import { DomainError } from "../errors";
import type { Trigger } from "../isomorphic/operation-kinds";
import { STATUS } from "../isomorphic/status";
import { formatSize } from "../journal/format-block";
import type { DatabaseContext } from "../operations/database-context";
import type { Task } from "../operations/task";
import { restoreArchive } from "./restore-archive";
import { integrateRestored, liveBookkeeping } from "./restored-log";
import type { ForbiddenPlaces } from "./restore-target";

export interface RestoreToFolderRequest {
  archivePath: string;
  target: string;
  parts: PartSelection;
  overwrite: boolean;
  /** Replay the log into the restored data file (needs `parts.dataFile`). */
  integrateLog: boolean;
  /** With integrateLog: also the current log file (else only the log backups and closed segments). */
  includeCurrentLog: boolean;
  trigger: Trigger;
}

/** The places a restore to a folder never writes to, for this server (restore-target.ts). */
export function forbiddenPlaces(db: DatabaseContext, destination: string | undefined): ForbiddenPlaces {
  return { databaseDir: db.layout.databaseDir, home: db.home, dataFile: db.layout.dataFile, destination, appDirs: db.appDirs };
}

export function restoreToFolderTask(db: DatabaseContext, req: RestoreToFolderRequest): Task {
  return {
    kind: "restore",
    trigger: req.trigger,
    record: { operation: "restore", archivePath: req.archivePath, structurePath: db.layout.projectDir },
    stoppedText: "The restore was stopped. Stopped while restoring files: nothing was left in the chosen folder. Stopped during the log " +
      "integration: the restored files are in the folder, and the data file holds the operations integrated so far (each one whole).",
    async run(ctx) {
      const { record, details } = ctx;
      const settings = await ctx.settings();
      ctx.progress.phase("restore", 1);
      if (req.integrateLog && !req.parts.dataFile) {
        throw new DomainError(STATUS.BACKUP_ERROR, "Integrating the log needs the data file: tick it, or untick the log integration.");
      }
      const contents = await readArchiveContents(req.archivePath);
      record.backupNumber = contents.manifest.backupNumber;
      const share = req.integrateLog ? 80 : 98;
      const result = await restoreArchive({
        archivePath: req.archivePath, target: req.target, select: selectParts(contents.manifest, req.parts), overwrite: req.overwrite,
        forbidden: forbiddenPlaces(db, settings.destination), signal: ctx.signal, now: () => ctx.clock.now(),
        onProgress: (p) => ctx.progress.update({ bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, filesDone: p.filesDone, filesTotal: p.filesTotal,
          currentFile: p.currentFile, percent: 1 + (share * p.bytesDone) / Math.max(1, p.bytesTotal) }),
      });
      const restoredData = path.join(result.target, DATA_FILE_ENTRY);
      record.dataPath = req.parts.dataFile ? restoredData : result.target;
      // Each part by its name (a restore of the data file alone is not "attachments").
      record.content = restoredContent(contents.manifest, req.parts);
      details.push(`Restored ${result.files} item(s), ${formatSize(result.bytes)}, to ${result.target}.`);
      if (result.replaced) details.push(`The folder's previous content was moved to ${result.replaced}.`);
      if (req.integrateLog) {
        ctx.progress.phase("integrate", 82);
        const live = await liveBookkeeping(db.layout.dataFile);
        details.push(await integrateRestored(ctx, settings, restoredData, [82, 98], { includeCurrentLog: req.includeCurrentLog, cap: live }));
      }
    },
  };
}
