// `npm run bench` (docs/performance.md): the engine's full backup of the reference database against `zip -r` at the matching
// level on the same files, in the same run: wall time, archive size, peak RSS side by side.
//   npm run bench [-- --runs 2] [-- --no-verify] [-- --only zip|writes|server|stall]
// `--only zip` runs only the comparison with zip (and the server's RSS); `--only writes` only the writes during a
// backup in each DataLockMode (writes-bench.ts); `--only server` only the server under load (50 viewers, 20 writers,
// 3 backups in a row: peak RSS and RSS after); `--only stall` only the longest stall of a steady writer during a
// Snapshot-mode backup at the reference size and at 2 GiB of data file (stall-bench.ts; the 2 GiB file is built once).
// The engine runs in a child process of its own (so its peak RSS is its own), with the page cache warmed first and
// the order alternating between runs. The engine's time runs from start() to its outcome: snapshot of the data
// file, archive, read-back verification (on by default, as in the settings), commit, history and journal.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { settingsXml } from "../test/helpers/make-database";
import { ensureReferenceSet } from "./reference";
import { fmtMB, fmtS, measureTsx, parseReport, table, warmPageCache, zipBaseline } from "./measure";
import { backupThroughServer, loadedBackupsThroughServer } from "./server-backup";
import { runStallBench } from "./stall-bench";
import { prepareCopy, runWritesBench } from "./writes-bench";

interface EngineReport { wallMs: number; status: number; statusText: string; archiveSize: number; phases: Record<string, number>; maxRss: number }
interface Sample { wallMs: number; size: number; rss: number | null; phases?: Record<string, number> }

const { values } = parseArgs({ options: { runs: { type: "string", default: "2" }, "no-verify": { type: "boolean", default: false }, only: { type: "string" } } });
if (values.only !== undefined && !["zip", "writes", "server", "stall"].includes(values.only)) throw new Error(`--only takes zip, writes, server or stall, not ${values.only}`);
const here = path.dirname(import.meta.filename);
const outDir = path.join(here, ".cache/out");

const LEVELS = [{ level: 1, compression: "Fast" }, { level: 6, compression: "Compact" }] as const;

const runZip = (root: string, level: number): Promise<Sample> =>
  zipBaseline(root, ["database", "attachments"], level, path.join(outDir, `zip-${level}.zip`));

/** Points the reference database's settings at a fresh destination for one run. */
function prepare(databaseDir: string, attachmentsDir: string, compression: "Fast" | "Compact", verify: boolean): string {
  const destination = path.join(outDir, `engine-${compression}`);
  fs.rmSync(destination, { recursive: true, force: true });
  fs.mkdirSync(destination, { recursive: true });
  fs.writeFileSync(path.join(databaseDir, "Settings/Backup.4DSettings"), settingsXml({
    destination, attachments: [attachmentsDir], keep: 1, compression, verbose: true, verify, eraseBefore: false,
    includeStructure: true, includeData: true,
  }));
  return destination;
}

async function runEngine(databaseDir: string, attachmentsDir: string, compression: "Fast" | "Compact", verify: boolean): Promise<Sample> {
  const destination = prepare(databaseDir, attachmentsDir, compression, verify);
  const m = await measureTsx(path.join(here, "engine-child.ts"), ["--database", databaseDir, "--destination", destination]);
  if (m.code !== 0) throw new Error(`engine-child failed (${m.code}): ${m.stderr}`);
  const r = parseReport<EngineReport>(m.stdout);
  if (r.status !== 0) throw new Error(`the backup failed: ${r.status} ${r.statusText}`);
  return { wallMs: r.wallMs, size: r.archiveSize, rss: Math.max(r.maxRss, m.maxRssBytes ?? 0), phases: r.phases };
}

async function main(): Promise<void> {
  const { databaseDir, attachmentsDir } = await ensureReferenceSet(path.join(here, ".cache/reference"));
  const root = path.dirname(databaseDir);
  fs.mkdirSync(outDir, { recursive: true });
  const verify = !values["no-verify"];
  const bytes = await warmPageCache([databaseDir, attachmentsDir]);
  const dataSize = fs.statSync(path.join(databaseDir, "Data/data.sqlite")).size;
  const count = fs.readdirSync(attachmentsDir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).length;
  console.log(`reference set: ${fmtMB(bytes)} (data file ${fmtMB(dataSize)}, ${count} attachment files); verification ${verify ? "on" : "off"}`);
  if (values.only === undefined || values.only === "zip") await zipComparison(databaseDir, attachmentsDir, root, verify);
  if (values.only === undefined || values.only === "server") await serverUnderLoad(databaseDir, attachmentsDir, verify);
  if (values.only === undefined || values.only === "writes") {
    const writes = await runWritesBench({ databaseDir, attachmentsDir, workDir: path.join(outDir, "writes"), verify });
    console.log(`\nWrites through the data API during a Fast backup, per DataLockMode:\n${writes.text}`);
  }
  if (values.only === undefined || values.only === "stall") {
    const stall = await runStallBench({ databaseDir, attachmentsDir, workDir: path.join(outDir, "stall"), largeDir: path.join(here, ".cache/large"),
      verify, runs: Number(values.runs) });
    console.log(`\nThe longest stall of a steady writer during a Snapshot-mode backup:\n${stall.text}`);
  }
}

/**
 * The server under load (a copy of the reference: the writers insert into it): 50 viewers with the console's event
 * stream open, 20 writers through the data API, 3 Fast backups in a row. Peak RSS of the server process, and RSS once
 * it is over (backups ended, writers stopped, viewers gone).
 */
async function serverUnderLoad(databaseDir: string, attachmentsDir: string, verify: boolean): Promise<void> {
  const workDir = path.join(outDir, "loaded");
  const { copy } = prepareCopy({ databaseDir, attachmentsDir, workDir, verify }, "Snapshot");
  const r = await loadedBackupsThroughServer(copy, { viewers: 50, writers: 20, backups: 3, log: (m) => console.log(`server under load: ${m}`) });
  fs.rmSync(workDir, { recursive: true, force: true });
  if (r.statuses.some((s) => s !== 0)) throw new Error(`a backup under load failed: statuses ${r.statuses.join(", ")}`);
  console.log(`\nThe server under load (${r.viewers} viewers, ${r.writers} writers, ${r.backups} Fast backups in a row):\n${table([{
    backups: fmtS(r.wallMs), "idle RSS": fmtMB(r.idleRss), "peak RSS": fmtMB(r.peakRss), [`RSS after (+${fmtS(r.settleMs)})`]: fmtMB(r.afterRss),
    writes: `${r.writes} acknowledged, ${r.failedWrites} failed`,
  }])}\n\n${r.peakRss < 300 * 1e6 ? "MET   " : "MISSED"} server under load: peak RSS ${fmtMB(r.peakRss)} (target < 300 MB)`);
}

/** The engine's full backup against `zip -r` at the matching level, then one backup through the server. */
async function zipComparison(databaseDir: string, attachmentsDir: string, root: string, verify: boolean): Promise<void> {

  const rows: Array<Record<string, string>> = [];
  const verdicts: string[] = [];
  for (const { level, compression } of LEVELS) {
    const zip: Sample[] = [], ours: Sample[] = [];
    for (let run = 0; run < Number(values.runs); run++) {
      if (run % 2 === 0) { zip.push(await runZip(root, level)); ours.push(await runEngine(databaseDir, attachmentsDir, compression, verify)); }
      else { ours.push(await runEngine(databaseDir, attachmentsDir, compression, verify)); zip.push(await runZip(root, level)); }
      console.log(`${compression} run ${run + 1}: zip -r -${level} ${fmtS(zip.at(-1)!.wallMs)}, engine ${fmtS(ours.at(-1)!.wallMs)}`);
    }
    const best = (s: Sample[]) => s.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
    const peak = (s: Sample[]) => Math.max(...s.map((x) => x.rss ?? 0));
    const z = best(zip), o = best(ours);
    const phases = Object.entries(o.phases ?? {}).filter(([, ms]) => ms > 50).map(([p, ms]) => `${p} ${fmtS(ms)}`).join(", ");
    rows.push({ compression, tool: `zip -r -${level}`, wall: fmtS(z.wallMs), size: fmtMB(z.size), "vs zip size": "100.0%", "peak RSS": fmtMB(peak(zip)), phases: "" });
    rows.push({ compression, tool: "Strongbox engine", wall: fmtS(o.wallMs), size: fmtMB(o.size), "vs zip size": `${((o.size / z.size) * 100).toFixed(1)}%`, "peak RSS": fmtMB(peak(ours)), phases });
    const faster = o.wallMs <= z.wallMs;
    const sizeOk = level !== 1 || o.size <= z.size * 1.05;
    verdicts.push(`${faster && sizeOk ? "MET   " : "MISSED"} ${compression}: ${fmtS(o.wallMs)} vs ${fmtS(z.wallMs)} (${((o.wallMs / z.wallMs) * 100).toFixed(0)}% of zip's time), size ${((o.size / z.size) * 100).toFixed(1)}% of zip's`);
    verdicts.push(`${peak(ours) < 300 * 1e6 ? "MET   " : "MISSED"} ${compression}: peak RSS ${fmtMB(peak(ours))} (target < 300 MB)`);
  }
  // The figure docs/performance.md asks for: the server process's own peak RSS (Next.js and the engine together).
  prepare(databaseDir, attachmentsDir, "Fast", verify);
  const s = await backupThroughServer(databaseDir);
  if (s.status !== 0) throw new Error(`the backup through the server failed with status ${s.status}`);
  rows.push({ compression: "Fast", tool: "server (next start)", wall: fmtS(s.wallMs), size: "", "vs zip size": "", "peak RSS": `${fmtMB(s.peakRss)} (idle ${fmtMB(s.idleRss)})`, phases: "" });
  verdicts.push(`${s.peakRss < 300 * 1e6 ? "MET   " : "MISSED"} server process: peak RSS ${fmtMB(s.peakRss)} during a Fast backup (target < 300 MB)`);
  console.log(`\n${table(rows)}\n\n${verdicts.join("\n")}`);
}

await main();
