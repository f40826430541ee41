// Backups as the routers, the scheduler and the CLI start them: a backup task in the runner's one slot.
import type { OperationRunner, StartedOperation } from "../operations/runner";
import type { BackupOptions, BackupRequest } from "./backup-run";
import { backupTask } from "./backup-task";

export class Backups {
  constructor(private readonly runner: OperationRunner, private readonly opts: BackupOptions = {}) {}

  /** Starts a backup and returns at once; refuses with -9976 while another operation runs (1417 during a log integration). */
  start(req: BackupRequest): StartedOperation {
    return this.runner.start(backupTask(this.runner.db, req, this.opts));
  }
}
