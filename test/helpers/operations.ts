// The operations side of a test database, wired as the services wire it (server/services.ts), without the web
// side: console.sqlite, the database context, the runner, backups, and the start-up work (bookkeeping, crash
// recovery). Every part is the real one; tests start operations through it exactly as the routers do.
import path from "node:path";
import { Backups } from "../../server/backup/backups";
import type { BackupOptions, BackupRequest } from "../../server/backup/backup-run";
import { openConsoleDb, type ConsoleDb } from "../../server/console/console-db";
import type { BackupLocks } from "../../server/locks/backup-locks";
import type { CurrentLog } from "../../server/log/current-log";
import type { Clock } from "../../server/operations/clock";
import { DatabaseContext } from "../../server/operations/database-context";
import { OperationRunner, type StartedOperation } from "../../server/operations/runner";
import type { Task } from "../../server/operations/task";
import { recoverAtStart } from "../../server/startup/start";

export interface TestOperations {
  db: DatabaseContext;
  runner: OperationRunner;
  backups: Backups;
  consoleDb: ConsoleDb;
  /** Starts a backup as the Backup page does (trigger manual, user alice, unless told otherwise). */
  backup(req?: Partial<BackupRequest>): StartedOperation;
  /** Starts any task in the one slot. */
  start(task: Task): StartedOperation;
  /** The start-up work after the data side: bookkeeping, then crash recovery; returns the start-up messages. */
  init(): Promise<string[]>;
}

export interface TestOperationsOptions extends BackupOptions {
  locks?: BackupLocks;
  log?: CurrentLog | null;
  consoleDb?: ConsoleDb;
  clock?: Clock;
  appDirs?: string[];
  stopGraceMs?: number;
}

export function openOperations(t: { databaseDir: string; home: string; destination: string }, opts: TestOperationsOptions = {}): TestOperations {
  const consoleDb = opts.consoleDb ?? openConsoleDb(path.join(t.home, "console.sqlite"));
  const db = new DatabaseContext({ databaseDir: t.databaseDir, home: t.home, defaultDestination: t.destination, consoleDb,
    locks: opts.locks, clock: opts.clock, appDirs: opts.appDirs });
  const runner = new OperationRunner(db, { stopGraceMs: opts.stopGraceMs });
  const backups = new Backups(runner, { log: opts.log, throttleBytesPerSecond: opts.throttleBytesPerSecond, hookTimeoutMs: opts.hookTimeoutMs,
    drainTimeoutMs: opts.drainTimeoutMs, beforeSnapshotCopy: opts.beforeSnapshotCopy });
  return {
    db, runner, backups, consoleDb,
    backup: (req = {}) => backups.start({ trigger: { kind: "manual", user: "alice" }, ...req }),
    start: (task) => runner.start(task),
    init: async () => (await recoverAtStart(db, runner)).messages,
  };
}
