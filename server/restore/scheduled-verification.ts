// Scheduled verification (issue 6, item 5): at the time the console's schedule names, every archive of this
// database in the destination is read back against its manifest, as one engine operation. A tick that finds
// another operation running tries again at the next tick; a server down at that time verifies once when it is back.
import { listArchives } from "../archive/names";
import type { BackupEngine } from "../backup/backup-engine";
import { runVerification } from "./restore-operations";
import { verificationDue, type VerificationStore } from "./verification-store";

export async function runScheduledVerification(engine: BackupEngine, store: VerificationStore, now: Date, log?: (m: string) => void): Promise<boolean> {
  if (engine.running || !verificationDue(store.schedule(), now)) return false;
  const ctx = await engine.resolve();
  const archives = (await listArchives(ctx.destination, ctx.databaseName)).map((a) => a.path);
  store.markRun(now);
  if (archives.length === 0) {
    log?.("Scheduled verification: there is no archive to verify yet.");
    return false;
  }
  const trigger = { kind: "scheduler" as const, user: null };
  engine.runOperation("verify", trigger, (id, c) => runVerification(engine, archives, store, trigger, id, c));
  return true;
}
