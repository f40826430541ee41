// Child process for bench.ts: one full backup of the reference database by the real engine (snapshot, archive,
// verify when on, commit, history, journal), reporting its wall time, archive size and its own peak RSS.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { openConsoleDb } from "../server/console/console-db";
import { Backups } from "../server/backup/backups";
import { DatabaseContext } from "../server/operations/database-context";
import { OperationRunner } from "../server/operations/runner";
import { acquireInstanceLock } from "../server/locks/instance-lock";
import { report, selfMaxRss } from "./measure";

const { values } = parseArgs({ options: { database: { type: "string" }, destination: { type: "string" } } });
const databaseDir = values.database!;
const home = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-bench-home-"));
const lock = acquireInstanceLock(databaseDir); // one server per database, as in production
try {
  const db = new DatabaseContext({ databaseDir, home, defaultDestination: values.destination!, consoleDb: openConsoleDb(path.join(home, "console.sqlite")) });
  const backups = new Backups(new OperationRunner(db));
  const phases: Record<string, number> = {};
  let phaseStart = performance.now(), phase = "startup";
  db.bus.on("event", (e) => {
    if (e.type === "progress" && e.progress.phase !== phase) {
      const now = performance.now();
      phases[phase] = (phases[phase] ?? 0) + (now - phaseStart);
      phase = e.progress.phase;
      phaseStart = now;
    }
  });
  const start = performance.now();
  const outcome = await backups.start({ trigger: { kind: "command", user: "bench" } }).done;
  const wallMs = performance.now() - start;
  phases[phase] = (phases[phase] ?? 0) + (performance.now() - phaseStart);
  const size = outcome.archivePath ? fs.statSync(outcome.archivePath).size : 0;
  report({ wallMs, status: outcome.status, statusText: outcome.statusText, archiveSize: size, phases, maxRss: selfMaxRss() });
} finally {
  lock.release();
  fs.rmSync(home, { recursive: true, force: true });
}
