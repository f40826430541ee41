// A backup as a task (docs/operations.md#backup). The runner owns everything around it (the slot, Stop, progress,
// the error mapping, the records); the phases, each in its own module under phases/, do the work in order:
// startup checks, the data file's snapshot, the archive, its verification, the commit.
import type { DatabaseContext } from "../operations/database-context";
import type { Task } from "../operations/task";
import type { BackupOptions, BackupProgress, BackupRequest } from "./backup-run";
import { writeArchive } from "./phases/archive";
import { commit } from "./phases/commit";
import { destinationFailure } from "./destination";
import { runShutdownHook } from "./phases/hooks";
import { takeSnapshot } from "./phases/snapshot";
import { startUp } from "./phases/startup";
import { verifyWritten } from "./phases/verify";

export function backupTask(db: DatabaseContext, req: BackupRequest, opts: BackupOptions = {}): Task {
  // How far the backup got: what the failure's explanation and the shutdown hook need to know.
  const reached: BackupProgress = { settings: null, destination: null, writing: null };
  return {
    kind: "backup",
    trigger: req.trigger,
    record: { operation: "backup", structurePath: db.layout.projectDir, dataPath: db.layout.dataFile, scheduledDate: req.scheduledDate ?? null },
    // One that failed before it had a number (an invalid destination…) has no history entry: its journal block says it.
    recordInHistory: (record) => record.backupNumber > 0,
    // The record keeps the path the archive would have had; the outcome names a committed archive only.
    outcomeArchive: (record) => (record.archive ? record.archivePath : null),
    async run(ctx) {
      const started = await startUp(ctx, opts, reached);
      const snapshot = await takeSnapshot(ctx, opts, started);
      const written = await writeArchive(ctx, opts, started, snapshot, reached);
      const verified = await verifyWritten(ctx, started, written);
      await commit(ctx, opts, started, snapshot, written, verified);
    },
    explainFailure: async (err, mapped, ctx) => (await destinationFailure(err, mapped, ctx, reached)) ?? mapped,
    shutdown: (ctx) => runShutdownHook(ctx, opts, reached),
  };
}
