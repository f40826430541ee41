// Log integration as an operation (docs/log-file.md#log-integration): the operations logged after a restored data
// file's snapshot, replayed into it — never into the live data file, which the data API owns. Recorded in the
// history (`logIntegration`) and the journal (`*** Log Integration`) like every operation.
import path from "node:path";
import { DomainError } from "../errors";
import type { Trigger } from "../isomorphic/operation-kinds";
import { STATUS } from "../isomorphic/status";
import type { DatabaseContext } from "../operations/database-context";
import type { Task } from "../operations/task";
import { integrateLogInto, logPlaces } from "../log/integration";

export interface LogIntegrationRequest {
  /** The data file to bring forward (a restored copy). */
  dataFile: string;
  trigger: Trigger;
  /** Stop after this operation (rollback to a point in time); null or absent: everything logged. */
  upToOperation?: number | null;
  /** Log files to read; absent: this database's log backups, closed segments and current log file. */
  sources?: string[];
  /** The archive the data file came from, for the history entry (0 when unknown). */
  backupNumber?: number;
  /** The archive's path, for the journal and the history. */
  archivePath?: string | null;
}

export function logIntegrationTask(db: DatabaseContext, req: LogIntegrationRequest): Task {
  return {
    kind: "logIntegration",
    trigger: req.trigger,
    record: { operation: "logIntegration", backupNumber: req.backupNumber ?? 0, archivePath: req.archivePath ?? null,
      structurePath: db.layout.projectDir, dataPath: req.dataFile },
    stoppedText: "The log integration was stopped; the data file is left at the last operation integrated.",
    outcomeArchive: () => null,
    async run(ctx) {
      const settings = await ctx.settings();
      if (path.resolve(req.dataFile) === db.layout.dataFile) {
        throw new DomainError(STATUS.BACKUP_ERROR, "The log can't be integrated into the live data file this way: restore a backup to a folder, then integrate into the restored copy.");
      }
      ctx.progress.phase("integrate", 5);
      const result = await integrateLogInto({
        dataFile: req.dataFile, places: logPlaces(db.layout, settings), sources: req.sources, upTo: req.upToOperation, signal: ctx.signal,
        onProgress: (done, total) => ctx.progress.update(done === 0
          ? { bytesTotal: total, filesTotal: total }
          : { filesDone: done, bytesDone: done, percent: 5 + (90 * done) / Math.max(1, total) }, done === 0),
      });
      const { record } = ctx;
      record.logBackupPath = result.sources.length === 1 ? result.sources[0] : null;
      for (const s of result.sources) record.notes.push(`Log file read : ${s}`);
      record.notes.push(result.firstOperation === null
        ? `Nothing to integrate: the data file is already at operation ${result.before.lastOperation}.`
        : `Operations ${result.firstOperation} to ${result.lastOperation} integrated into ${req.dataFile} (${result.applied} operations).`);
    },
  };
}
