// Writes during a backup (spec §9, §12), for `npm run bench`: per DataLockMode, one Fast backup of a copy of the
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
}

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
  for (const mode of LOCK_MODES) {
    const { copy, destination } = prepareCopy(o, mode);
    const m = await measureTsx(path.join(here, "writes-child.ts"), ["--database", copy, "--destination", destination,
      "--interval-ms", String(o.intervalMs ?? 5), "--baseline-ms", String(o.baselineMs ?? 3000)]);
    if (m.code !== 0) throw new Error(`writes-child failed (${m.code}): ${m.stderr}`);
    const run = parseReport<WritesRun>(m.stdout);
    if (run.status !== 0) throw new Error(`the ${mode}-mode backup failed: ${run.status} ${run.statusText}`);
    if (run.mode !== mode) throw new Error(`the ${mode}-mode run read DataLockMode ${run.mode} from its settings`);
    const s = summarize(run);
    summaries.push(s);
    console.log(`writes, ${mode} mode: backup ${fmtMs(s.backupMs)}, ${run.writes.length} writes, ${s.blockedCount} met the lock: ` +
      `blocked ${fmtMs(s.blockedMs)} at most, acknowledged ${fmtMs(s.blockedLatencyMs)} after it was issued; p50 / p99 (n) of the others by ` +
      `phase at issue: ${s.byPhase.filter((p) => p.latency.count).map((p) => `${p.phase} ${fmtLatency(p.latency)}`).join(", ")}`);
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
    `${s.blockedMs <= s.snapshotMs ? "MET   " : "MISSED"} Snapshot mode: writes blocked ${fmtMs(s.blockedMs)}, the snapshot phase took ${fmtMs(s.snapshotMs)} (spec §12: no longer than the snapshot)`);
  const failed = summaries.filter((s) => s.failed > 0).map((s) => `${s.mode} mode: ${s.failed} write(s) failed`);
  const legend = [
    `One client updating a row through the data API, each write issued ${o.intervalMs ?? 5} ms after the previous one was acknowledged (committed`,
    "and in the log file); latency = issued → acknowledged. \"writes blocked\" = the longest time one write waited while the data write lock",
    "was held (its wait overlapping the lock); \"its latency\" = the longest issued → acknowledged of a write that met the lock (its wait",
    "plus its own run once the lock was released); \"blocked in all\" = the waits of every write that met the lock added up (how many).",
    "\"during\" = the writes issued during the backup that did not meet the lock.",
  ].join("\n");
  return { summaries, text: `${table(rows)}\n${legend}\n\n${[...verdicts, ...failed].join("\n")}` };
}
