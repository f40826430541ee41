// Scheduled verification: at the time the console's schedule names, every archive of this database in the
// destination is read back against its manifest, as one operation. A tick that finds another operation running
// tries again at the next tick; a server down at that time verifies once when it is back.
import { listArchives } from "../archive/names";
import type { DatabaseContext } from "../operations/database-context";
import type { OperationRunner } from "../operations/runner";
import { verificationDue, type VerificationStore } from "./verification-store";
import { verificationTask } from "./verification-task";

export async function runScheduledVerification(db: DatabaseContext, runner: OperationRunner, store: VerificationStore, now: Date, log?: (m: string) => void): Promise<boolean> {
  if (runner.running || !verificationDue(store.schedule(), now)) return false;
  const ctx = await db.resolve();
  const archives = (await listArchives(ctx.destination, ctx.databaseName)).map((a) => a.path);
  const previousRun = store.schedule().lastRun;
  store.markRun(now);
  if (archives.length === 0) {
    log?.("Scheduled verification: there is no archive to verify yet.");
    return false;
  }
  let started;
  try {
    started = runner.start(verificationTask(db, archives, store, { kind: "scheduler", user: null }));
  } catch (err) {
    // Another operation started meanwhile, or the server is stopping: this time is not used up (a later tick, or
    // the next start, runs it).
    store.setLastRun(previousRun);
    throw err;
  }
  // Cut by the server shutting down: the time counts as missed while the server was down, and runs after the restart.
  void started.done.then((o) => { if (o.status !== 0 && runner.shuttingDown) store.setLastRun(previousRun); }, () => undefined);
  return true;
}
