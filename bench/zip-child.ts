// Child process for zip-bench: archives the reference set with ZipWriter and reports timings and
// its own peak RSS. Layout as in spec section 3: database entries relative to the database folder,
// attachments under `Attachments/<absolute path>`.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ZipWriter, type ZipSource } from "../server/zip/zip-writer";
import { verifyArchive } from "../server/zip/zip-reader";
import { report, selfMaxRss } from "./measure";

/** Depth-first walk yielding archive sources (directories before their content), never following links. */
export async function* walk(root: string, prefix: string): AsyncGenerator<ZipSource> {
  const names = (await fs.promises.readdir(root)).sort();
  for (const n of names) {
    const p = path.join(root, n);
    const name = prefix + n;
    const st = await fs.promises.lstat(p);
    if (st.isDirectory()) {
      yield { kind: "directory", name: name + "/", mtime: st.mtime, mode: st.mode };
      yield* walk(p, name + "/");
    } else if (st.isSymbolicLink()) {
      yield { kind: "symlink", name, target: await fs.promises.readlink(p), mtime: st.mtime };
    } else if (st.isFile()) {
      yield { kind: "file", name, path: p, size: st.size, mtime: st.mtime, mode: st.mode };
    }
  }
}

const { values } = parseArgs({
  options: {
    level: { type: "string", default: "1" },
    out: { type: "string" },
    database: { type: "string" },
    attachments: { type: "string" },
    workers: { type: "string" },
    chunk: { type: "string" },
    inflight: { type: "string" },
    verify: { type: "boolean", default: false },
    mem: { type: "boolean", default: false }, // sample memoryUsage() to break the peak down
  },
});
const num = (s: string | undefined) => (s ? Number(s) : undefined);
const level = Number(values.level) as 0 | 1 | 6;
let peakMem: NodeJS.MemoryUsage | undefined;
const sampler = values.mem ? setInterval(() => { const m = process.memoryUsage(); if (!peakMem || m.rss > peakMem.rss) peakMem = m; }, 10) : undefined;
const start = performance.now();
const writer = new ZipWriter(values.out!, {
  level,
  chunkSize: num(values.chunk),
  maxInFlightBytes: num(values.inflight),
  workers: num(values.workers),
});
for await (const s of walk(values.database!, "")) await writer.add(s);
const att = path.resolve(values.attachments!);
await writer.add({ kind: "directory", name: "Attachments/", mtime: new Date(), mode: 0o755 });
for await (const s of walk(att, `Attachments/${att.slice(1)}/`)) await writer.add(s);
const entries = await writer.flushEntries();
await writer.add({ kind: "buffer", name: "manifest.json", data: Buffer.from(JSON.stringify({ entries })), mtime: new Date() });
const result = await writer.finish();
const writeMs = performance.now() - start;
let verifyMs: number | undefined;
if (values.verify) {
  const t = performance.now();
  const v = await verifyArchive(values.out!, entries.filter((e) => e.kind !== "directory"));
  if (!v.ok) throw new Error(v.problems.slice(0, 5).join("\n"));
  verifyMs = performance.now() - t;
}
clearInterval(sampler);
const cpu = process.cpuUsage();
report({ writeMs, verifyMs, peakMem, archiveSize: result.archiveSize, entries: result.entries.length, maxRss: selfMaxRss(), cpuMs: (cpu.user + cpu.system) / 1000 });
