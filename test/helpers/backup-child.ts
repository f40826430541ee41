// A separate process that runs a slowed-down backup and says when it is under way, so that a test can kill it
// with SIGKILL mid-backup (crash recovery), or holds the database's lock (one engine per database).
import { acquireInstanceLock } from "../../server/locks/instance-lock";
import { openOperations } from "./operations";

const [mode, databaseDir, home, destination] = process.argv.slice(2) as [string, string, string, string];
if (mode === "lock") {
  try {
    const lock = acquireInstanceLock(databaseDir);
    console.log("LOCKED");
    process.on("SIGTERM", () => { lock.release(); process.exit(0); });
  } catch (err) {
    console.log(`REFUSED ${(err as Error).message}`);
  }
  setInterval(() => undefined, 1000);
} else {
  const ops = openOperations({ databaseDir, home, destination }, { throttleBytesPerSecond: 2 * 1024 * 1024 });
  let told = false;
  ops.db.bus.on("event", (e) => {
    if (!told && e.type === "progress" && e.progress.phase === "archive" && e.progress.bytesDone > 0) {
      told = true;
      console.log("ARCHIVING");
    }
  });
  ops.backup({ trigger: { kind: "manual", user: "crash" } });
}
