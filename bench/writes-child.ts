// Child process for the writes bench (writes-bench.ts): a steady stream of data API writes on a copy of
// the reference database, a few seconds alone and then through one backup by the real backup runner, reporting every
// write's scheduled time and latency, the backup's phases and when the data write lock was held.
//   node --import tsx bench/writes-child.ts --database DIR --baseline-ms 3000 --interval-ms 5 --after-ms 1000 [--writers 20]
// With --writers N, N clients write at once, each issuing its next write as soon as the previous one is
// acknowledged (plus the interval): what the group commit is measured with.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { openConsoleDb } from "../server/console/console-db";
import { openDataAccess } from "../server/startup/open-data";
import { databaseLayout } from "../server/database/layout";
import { Backups } from "../server/backup/backups";
import { DatabaseContext } from "../server/operations/database-context";
import { OperationRunner } from "../server/operations/runner";
import { recoverAtStart } from "../server/startup/start";
import { BackupLocks } from "../server/locks/backup-locks";
import { acquireInstanceLock } from "../server/locks/instance-lock";
import { report } from "./measure";
import type { WritesRun, WriteSample } from "./write-latency";

const { values } = parseArgs({
  options: {
    database: { type: "string" },
    destination: { type: "string" },
    "baseline-ms": { type: "string", default: "3000" },
    "interval-ms": { type: "string", default: "5" },
    "after-ms": { type: "string", default: "1000" },
    table: { type: "string", default: "customers" },
    rows: { type: "string", default: "60000" },
    writers: { type: "string", default: "1" },
  },
});
const databaseDir = values.database!;
const intervalMs = Number(values["interval-ms"]);
const rows = Number(values.rows);
const writerCount = Number(values.writers);
const home = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-bench-writes-"));
const lock = acquireInstanceLock(databaseDir);
const t0 = performance.now();
const now = () => performance.now() - t0;

try {
  const locks = new BackupLocks();
  const data = await openDataAccess(databaseLayout(databaseDir), locks, true);
  if (data.messages.length) console.error(data.messages.join("\n"));
  const db = new DatabaseContext({ databaseDir, home, defaultDestination: values.destination!, consoleDb: openConsoleDb(path.join(home, "console.sqlite")), locks });
  const runner = new OperationRunner(db);
  const backups = new Backups(runner, { log: data.log });
  await recoverAtStart(db, runner);

  const phases: WritesRun["phases"] = [];
  db.bus.on("event", (e) => {
    if (e.type === "progress" && e.progress.phase !== phases.at(-1)?.phase) phases.push({ phase: e.progress.phase, atMs: now() });
  });
  const lockHeld: WritesRun["lockHeld"] = [];
  locks.on("change", (s) => {
    const last = lockHeld.at(-1);
    if (s.data.held && (!last || last.endMs !== null)) lockHeld.push({ startMs: now(), endMs: null });
    else if (!s.data.held && last && last.endMs === null) last.endMs = now();
  });

  // A steady stream, closed loop: each write is issued `interval` ms after the previous one was acknowledged (as one
  // busy client would), so the stream never outruns what the data file and the log's fsyncs can take, and a write
  // that meets the lock holds the stream up for exactly as long as the lock keeps it waiting.
  const writes: WriteSample[] = [];
  let stopped = false;
  let backup: { startMs: number; endMs: number | null } | null = null;
  const phaseAt = () => runner.running?.phase ?? (backup === null ? "before" : "after");
  let issued = 0;
  const client = async () => {
    while (!stopped) {
      const i = issued++;
      const sample: WriteSample = { issuedMs: now(), latencyMs: -1, phase: phaseAt(), queued: locks.state().data.held || locks.state().data.waiting > 0 };
      writes.push(sample);
      try {
        await data.store.write({ kind: "update", table: values.table!, key: 1 + ((i * 7919) % rows), values: { city: `Bench ${i}` } }, { user: "bench" });
        sample.latencyMs = now() - sample.issuedMs;
      } catch (err) {
        sample.error = String((err as Error).message ?? err);
        await new Promise((r) => setImmediate(r)); // a failing write must not spin without letting the timers run
      }
      if (intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
    }
  };
  const stream = Promise.all(Array.from({ length: writerCount }, client));

  await new Promise((r) => setTimeout(r, Number(values["baseline-ms"])));
  // The WAL's size through the backup: in Snapshot mode the copy's read transaction keeps it from being checkpointed.
  const walFile = `${databaseLayout(databaseDir).dataFile}-wal`;
  const walSize = () => fs.statSync(walFile, { throwIfNoEntry: false })?.size ?? 0;
  const wal = { beforeBytes: walSize(), peakBytes: walSize() };
  const walPoll = setInterval(() => (wal.peakBytes = Math.max(wal.peakBytes, walSize())), 50);
  backup = { startMs: now(), endMs: null };
  const outcome = await backups.start({ trigger: { kind: "command", user: "bench" } }).done;
  backup.endMs = now();
  clearInterval(walPoll);
  await new Promise((r) => setTimeout(r, Number(values["after-ms"])));
  stopped = true;
  await stream;
  await data.store.close();
  await data.log.close();
  const settings = await db.resolve();
  const run: WritesRun = {
    mode: settings.settings.advanced.dataLockMode, status: outcome.status, statusText: outcome.statusText,
    intervalMs, writers: writerCount, commits: data.store.commitStats,
    backup: { startMs: backup.startMs, endMs: backup.endMs }, phases, lockHeld, writes, wal,
  };
  report(run);
} finally {
  lock.release();
  fs.rmSync(home, { recursive: true, force: true });
}
