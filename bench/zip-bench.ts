// ZipWriter against `zip -r` on the reference set (spec section 12), in the same run.
//   npx tsx bench/zip-bench.ts [--runs 3] [--levels 1,6] [--verify]
// Each contender runs in its own child process so peak RSS is its own; the page cache is warmed
// first and the order alternates between runs. Our time is measured inside the child (a server
// does not pay process start-up per backup); zip's is the whole process.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ensureReferenceSet } from "./reference";
import { fmtMB, fmtS, measureTsx, zipBaseline, parseReport, table, warmPageCache } from "./measure";

interface ChildReport { writeMs: number; verifyMs?: number; archiveSize: number; entries: number; maxRss: number }
interface Sample { wallMs: number; size: number; rss: number | null; verifyMs?: number }

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "1" },
    levels: { type: "string", default: "1,6" },
    verify: { type: "boolean", default: false },
    workers: { type: "string" },
  },
});
const here = path.dirname(import.meta.filename);
const outDir = path.join(here, ".cache/out");

const runZip = (root: string, level: number): Promise<Sample> =>
  zipBaseline(root, ["database", "attachments"], level, path.join(outDir, `zip-${level}.zip`));

async function runOurs(db: string, att: string, level: number): Promise<Sample> {
  const out = path.join(outDir, `ours-${level}.zip`);
  fs.rmSync(out, { force: true });
  const args = ["--level", String(level), "--out", out, "--database", db, "--attachments", att];
  if (values.verify) args.push("--verify");
  if (values.workers) args.push("--workers", values.workers);
  const m = await measureTsx(path.join(here, "zip-child.ts"), args);
  if (m.code !== 0) throw new Error(`zip-child failed (${m.code}): ${m.stderr}`);
  const r = parseReport<ChildReport>(m.stdout);
  return { wallMs: r.writeMs, size: r.archiveSize, rss: Math.max(r.maxRss, m.maxRssBytes ?? 0), verifyMs: r.verifyMs };
}

async function main(): Promise<void> {
  const { databaseDir, attachmentsDir } = await ensureReferenceSet(path.join(here, ".cache/reference"));
  const root = path.dirname(databaseDir);
  fs.mkdirSync(outDir, { recursive: true });
  const bytes = await warmPageCache([databaseDir, attachmentsDir]);
  console.log(`reference set: ${fmtMB(bytes)} in ${root}`);
  // What an idle child costs (node + tsx loader), to read our RSS against.
  const idle = parseReport<{ maxRss: number }>((await measureTsx(path.join(here, "idle-child.ts"), [])).stdout).maxRss;

  const rows: Array<Record<string, string>> = [];
  const verdicts: string[] = [];
  for (const level of values.levels!.split(",").map(Number)) {
    const zip: Sample[] = [], ours: Sample[] = [];
    for (let run = 0; run < Number(values.runs); run++) {
      // Alternate who goes first, so neither always inherits the other's cache and CPU state.
      if (run % 2 === 0) { zip.push(await runZip(root, level)); ours.push(await runOurs(databaseDir, attachmentsDir, level)); }
      else { ours.push(await runOurs(databaseDir, attachmentsDir, level)); zip.push(await runZip(root, level)); }
      console.log(`level ${level} run ${run + 1}: zip ${fmtS(zip.at(-1)!.wallMs)}, ZipWriter ${fmtS(ours.at(-1)!.wallMs)}`);
    }
    const best = (s: Sample[]) => s.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
    const peak = (s: Sample[]) => Math.max(...s.map((x) => x.rss ?? 0));
    const z = best(zip), o = best(ours);
    rows.push({ level: String(level), tool: `zip -r -${level}`, wall: fmtS(z.wallMs), size: fmtMB(z.size), "size vs zip": "100.0%", "peak RSS": fmtMB(peak(zip)), verify: "" });
    rows.push({ level: String(level), tool: "ZipWriter", wall: fmtS(o.wallMs), size: fmtMB(o.size), "size vs zip": `${((o.size / z.size) * 100).toFixed(1)}%`, "peak RSS": `${fmtMB(peak(ours))} (idle ${fmtMB(idle)})`, verify: o.verifyMs ? fmtS(o.verifyMs) : "" });
    const name = level === 1 ? "Fast" : level === 6 ? "Compact" : `level ${level}`;
    const faster = o.wallMs <= z.wallMs;
    const sizeOk = level !== 1 || o.size <= z.size * 1.05;
    verdicts.push(`${faster && sizeOk ? "PASS" : "FAIL"} ${name}: ${fmtS(o.wallMs)} vs ${fmtS(z.wallMs)} (${((o.wallMs / z.wallMs) * 100).toFixed(0)}%), size ${((o.size / z.size) * 100).toFixed(1)}% of zip`);
    verdicts.push(`${peak(ours) < 300 * 1048576 ? "PASS" : "FAIL"} ${name}: peak RSS ${fmtMB(peak(ours))} < 300 MiB`);
  }
  console.log(`\n${table(rows)}\n\n${verdicts.join("\n")}`);
}

await main();
