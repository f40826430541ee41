// Child process for the writes bench (writes-bench.ts): a steady stream of data API writes on a copy of
// the reference database, a few seconds alone and then through one backup by the real engine, reporting every
// write's scheduled time and latency, the engine's phases and when the data write lock was held.
//   node --import tsx bench/writes-child.ts --database DIR --baseline-ms 3000 --interval-ms 5 --after-ms 1000
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { openConsoleDb } from "../server/console/console-db";
import { openDataAccess } from "../server/data/open-data";
import { databaseLayout } from "../server/database/layout";
import { BackupEngine } from "../server/engine/backup-engine";
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
  },
});
const databaseDir = values.database!;
const intervalMs = Number(values["interval-ms"]);
const rows = Number(values.rows);
const home = fs.mkdtempSync(path.join(os.tmpdir(), "strongbox-bench-writes-"));
const lock = acquireInstanceLock(databaseDir);
const t0 = performance.now();
const now = () => performance.now() - t0;

try {
  const locks = new BackupLocks();
  const data = await openDataAccess(databaseLayout(databaseDir), locks, true);
  if (data.messages.length) console.error(data.messages.join("\n"));
  const engine = new BackupEngine({ databaseDir, home, defaultDestination: values.destination!, consoleDb: openConsoleDb(path.join(home, "console.sqlite")), locks, log: data.log });
  await engine.init();

  const phases: WritesRun["phases"] = [];
  engine.on("event", (e) => {
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
  const phaseAt = () => engine.running?.phase ?? (backup === null ? "before" : "after");
  const stream = (async () => {
    for (let i = 0; !stopped; i++) {
      const sample: WriteSample = { issuedMs: now(), latencyMs: -1, phase: phaseAt(), queued: locks.state().data.held || locks.state().data.waiting > 0 };
      writes.push(sample);
      try {
        await data.store.write({ kind: "update", table: values.table!, key: 1 + ((i * 7919) % rows), values: { city: `Bench ${i}` } }, { user: "bench" });
        sample.latencyMs = now() - sample.issuedMs;
      } catch (err) {
        sample.error = String((err as Error).message ?? err);
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();

  await new Promise((r) => setTimeout(r, Number(values["baseline-ms"])));
  // The WAL's size through the backup: in Snapshot mode the copy's read transaction keeps it from being checkpointed.
  const walFile = `${databaseLayout(databaseDir).dataFile}-wal`;
  const walSize = () => fs.statSync(walFile, { throwIfNoEntry: false })?.size ?? 0;
  const wal = { beforeBytes: walSize(), peakBytes: walSize() };
  const walPoll = setInterval(() => (wal.peakBytes = Math.max(wal.peakBytes, walSize())), 50);
  backup = { startMs: now(), endMs: null };
  const outcome = await engine.start({ trigger: { kind: "command", user: "bench" } }).done;
  backup.endMs = now();
  clearInterval(walPoll);
  await new Promise((r) => setTimeout(r, Number(values["after-ms"])));
  stopped = true;
  await stream;
  await data.store.close();
  await data.log.close();
  const settings = await engine.resolve();
  const run: WritesRun = {
    mode: settings.settings.advanced.dataLockMode, status: outcome.status, statusText: outcome.statusText,
    intervalMs, backup: { startMs: backup.startMs, endMs: backup.endMs }, phases, lockHeld, writes, wal,
  };
  report(run);
} finally {
  lock.release();
  fs.rmSync(home, { recursive: true, force: true });
}
