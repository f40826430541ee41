// Writes during a backup (docs/log-file.md, docs/performance.md), for `npm run bench`: per DataLockMode, one Fast backup of a copy of the
// reference database (its data file, Project/ and data settings; the reference attachments are read in place)
// with a steady stream of data API writes running from a few seconds before it until after it ends.
// The reference itself is never written to: the zip comparison needs it unchanged.
import fs from "node:fs";
import path from "node:path";
import { settingsXml } from "../test/helpers/make-database";
import { measureTsx, parseReport, table } from "./measure";
import { fmtLatency, fmtMs, summarize, type WritesRun, type WritesSummary } from "./write-latency";

export interface WritesBenchOptions {
  databaseDir: string;
  attachmentsDir: string;
  /** Scratch space: the copy and the backup destination go under it. */
  workDir: string;
  verify: boolean;
  intervalMs?: number;
  baselineMs?: number;
  /** Clients writing at once in the throughput runs (group commit), each issuing its next write on acknowledgement. */
  writers?: number;
}

/** Targets of the throughput rows: outside backups, and the share of it kept during a Snapshot-mode backup. */
export const THROUGHPUT_TARGET = { writesPerSecond: 1000, p99Ms: 50, duringShare: 0.5 };

export const LOCK_MODES = ["Snapshot", "Full"] as const;

/** A fresh database folder holding copies of what a backup of the reference reads from it, set to `mode`. */
export function prepareCopy(o: Pick<WritesBenchOptions, "databaseDir" | "attachmentsDir" | "workDir" | "verify">, mode: (typeof LOCK_MODES)[number]): { copy: string; destination: string } {
  const copy = path.join(o.workDir, "database");
  const destination = path.join(o.workDir, `out-${mode}`);
  for (const d of [copy, destination]) fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(path.join(copy, "Data"), { recursive: true });
  fs.mkdirSync(path.join(copy, "Settings"), { recursive: true });
  fs.mkdirSync(destination, { recursive: true });
  fs.cpSync(path.join(o.databaseDir, "Project"), path.join(copy, "Project"), { recursive: true });
  const data = path.join(o.databaseDir, "Data");
  for (const name of fs.readdirSync(data)) {
    // The data file (with its WAL when not empty; SQLite rebuilds -shm) and the data settings; the copy starts its own log.
    if (name === "data.sqlite" || (name === "data.sqlite-wal" && fs.statSync(path.join(data, name)).size > 0)) fs.copyFileSync(path.join(data, name), path.join(copy, "Data", name));
    else if (name === "Settings") fs.cpSync(path.join(data, name), path.join(copy, "Data", name), { recursive: true });
  }
  fs.writeFileSync(path.join(copy, "Settings/Backup.4DSettings"), settingsXml({
    destination, attachments: [o.attachmentsDir], keep: 1, compression: "Fast", verbose: true, verify: o.verify, eraseBefore: false,
    includeStructure: true, includeData: true, advancedXml: `<DataLockMode>${mode}</DataLockMode><UseLog>True</UseLog>`,
  }));
  return { copy, destination };
}

export async function runWritesBench(o: WritesBenchOptions): Promise<{ summaries: WritesSummary[]; text: string }> {
  const here = path.dirname(import.meta.filename);
  const summaries: WritesSummary[] = [];
  const many: WritesSummary[] = [];
  const writers = o.writers ?? 20;
  const runs = [
    ...LOCK_MODES.map((mode) => ({ mode, writers: 1, intervalMs: o.intervalMs ?? 5 })),
    ...LOCK_MODES.map((mode) => ({ mode, writers, intervalMs: 0 })),
  ];
  for (const { mode, writers: n, intervalMs } of runs) {
    const { copy, destination } = prepareCopy(o, mode);
    const m = await measureTsx(path.join(here, "writes-child.ts"), ["--database", copy, "--destination", destination,
      "--interval-ms", String(intervalMs), "--baseline-ms", String(o.baselineMs ?? 3000), "--writers", String(n)]);
    if (m.code !== 0) throw new Error(`writes-child failed (${m.code}): ${m.stderr}`);
    const run = parseReport<WritesRun>(m.stdout);
    if (run.status !== 0) throw new Error(`the ${mode}-mode backup failed: ${run.status} ${run.statusText}`);
    if (run.mode !== mode) throw new Error(`the ${mode}-mode run read DataLockMode ${run.mode} from its settings`);
    const s = summarize(run);
    (n === 1 ? summaries : many).push(s);
    console.log(`writes, ${mode} mode, ${n} writer(s): backup ${fmtMs(s.backupMs)}, ${run.writes.length} writes in ${run.commits.groups} flushes, ${s.blockedCount} met the lock: ` +
      `blocked ${fmtMs(s.blockedMs)} at most, acknowledged ${fmtMs(s.blockedLatencyMs)} after it was issued; p50 / p99 (n) of the others by ` +
      `phase at issue: ${s.byPhase.filter((p) => p.latency.count).map((p) => `${p.phase} ${fmtLatency(p.latency)}`).join(", ")}; ` +
      `${s.outside.perSecond.toFixed(0)} writes/s outside the backup, ${s.whileBackingUp.perSecond.toFixed(0)} during it`);
    fs.rmSync(copy, { recursive: true, force: true });
    fs.rmSync(destination, { recursive: true, force: true });
  }
  const rows = summaries.map((s) => ({
    DataLockMode: s.mode,
    backup: fmtMs(s.backupMs),
    "snapshot phase": fmtMs(s.snapshotMs),
    "data lock held": fmtMs(s.lockHeldMs),
    "writes blocked": fmtMs(s.blockedMs),
    "blocked in all": `${fmtMs(s.blockedTotalMs)} (${s.blockedCount})`,
    "its latency": fmtMs(s.blockedLatencyMs),
    "p50 / p99 before (n)": fmtLatency(s.before),
    "p50 / p99 during (n)": fmtLatency(s.during),
  }));
  const verdicts = summaries.filter((s) => s.mode === "Snapshot").map((s) =>
    `${s.blockedMs <= s.snapshotMs ? "MET   " : "MISSED"} Snapshot mode: writes blocked ${fmtMs(s.blockedMs)}, the snapshot phase took ${fmtMs(s.snapshotMs)} (docs/performance.md: no longer than the snapshot)`);
  const failed = [...summaries, ...many].filter((s) => s.failed > 0).map((s) => `${s.mode} mode, ${s.writers} writer(s): ${s.failed} write(s) failed`);
  const T = THROUGHPUT_TARGET;
  const manyRows = many.map((s) => ({
    DataLockMode: s.mode,
    writers: String(s.writers),
    "writes per flush": s.writesPerFlush.toFixed(1),
    "outside: writes/s": s.outside.perSecond.toFixed(0),
    "outside: p50 / p99 (n)": fmtLatency(s.outside.latency),
    "during backup: writes/s": s.whileBackingUp.perSecond.toFixed(0),
    "during: p50 / p99 (n)": fmtLatency(s.whileBackingUp.latency),
    "during: max": fmtMs(s.whileBackingUp.latency.max),
    backup: fmtMs(s.backupMs),
  }));
  for (const s of many) {
    const outsideOk = s.outside.perSecond >= T.writesPerSecond && s.outside.latency.p99 <= T.p99Ms;
    verdicts.push(`${outsideOk ? "MET   " : "MISSED"} ${s.writers} writers outside backups (${s.mode}-mode run): ${s.outside.perSecond.toFixed(0)} writes/s, p99 ` +
      `${fmtMs(s.outside.latency.p99)} (target ≥ ${T.writesPerSecond} writes/s, p99 ≤ ${T.p99Ms} ms)`);
  }
  for (const s of many.filter((x) => x.mode === "Snapshot")) {
    const share = s.whileBackingUp.perSecond / s.outside.perSecond;
    verdicts.push(`${share >= T.duringShare && s.whileBackingUp.perSecond >= T.writesPerSecond * T.duringShare ? "MET   " : "MISSED"} ${s.writers} writers during a Snapshot-mode backup: ` +
      `${s.whileBackingUp.perSecond.toFixed(0)} writes/s, ${(share * 100).toFixed(0)}% of outside (target ≥ ${T.duringShare * 100}% and ≥ ${T.writesPerSecond * T.duringShare} writes/s)`);
  }
  const legend = [
    `One client updating a row through the data API, each write issued ${o.intervalMs ?? 5} ms after the previous one was acknowledged (committed`,
    "and in the log file); latency = issued → acknowledged. \"writes blocked\" = the longest time one write waited while the data write lock",
    "was held (its wait overlapping the lock); \"its latency\" = the longest issued → acknowledged of a write that met the lock (its wait",
    "plus its own run once the lock was released); \"blocked in all\" = the waits of every write that met the lock added up (how many).",
    "\"during\" = the writes issued during the backup that did not meet the lock.",
  ].join("\n");
  const manyLegend = [
    `${writers} clients writing at once, each issuing its next update as soon as the previous one was acknowledged (no pause): acknowledged`,
    "writes per second and latency (issued → acknowledged) before the backup (\"outside\", its first 0.5 s left out) and from the backup's",
    "start to its end (\"during\": every write, those that waited for the data write lock included). \"writes per flush\" = writes per",
    "log fdatasync over the run (group commit). In Full mode writes wait for the whole backup by design: its \"during\" is not a target.",
  ].join("\n");
  return { summaries: [...summaries, ...many], text: `${table(rows)}\n${legend}\n\n${table(manyRows)}\n${manyLegend}\n\n${[...verdicts, ...failed].join("\n")}` };
}
